import { QfError } from '../errors.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import { checkPolicyText, parsePolicy } from '../policy/load-policy.js';
import type { RepoRef } from './check-run-types.js';
import { readFileAtRef, type ContentsReader } from './read-file-at-ref.js';

export interface BasePolicy {
  policy: LoadedPolicy;
  /** Set when the pull request changes the policy file: what it proposes, and that it is not used. */
  notice: string | null;
}

/**
 * A pull request's policy comes from its base commit through the contents API: the checked-out head is
 * the code under review and may not choose its own rules. When the PR edits the policy file, its
 * version is validated and the result shown, but the base version still decides.
 */
export async function loadBasePolicy(options: {
  octokit: ContentsReader;
  repo: RepoRef;
  path: string;
  baseSha: string;
  headSha: string;
  changedFiles: readonly string[];
}): Promise<BasePolicy> {
  const { octokit, repo, path, baseSha, headSha } = options;
  const text = await readFileAtRef(octokit, repo, path, baseSha);
  if (text === null) {
    throw new QfError(
      'POLICY_INVALID',
      `No policy file ${path} on the base commit ${baseSha.slice(0, 12)}. The policy is read from the base commit, never from the pull request; merge a policy first (see policies/default.yaml) or set the \`policy\` input.`,
    );
  }
  const policy = parsePolicy(text, { path, sourceRef: baseSha });
  if (!options.changedFiles.includes(path)) return { policy, notice: null };

  const proposed = await readFileAtRef(octokit, repo, path, headSha);
  const used = `This run uses the policy of the base commit \`${baseSha.slice(0, 12)}\`.`;
  if (proposed === null) return { policy, notice: `This pull request deletes the policy file \`${path}\`. ${used}` };
  const check = checkPolicyText(proposed, { path, sourceRef: headSha });
  const verdict = check.ok
    ? 'The proposed version is valid; it takes effect once merged.'
    : `The proposed version is not valid and would be refused once merged:\n\n\`\`\`text\n${check.message}\n\`\`\``;
  return { policy, notice: `This pull request changes the policy file \`${path}\`. ${used} ${verdict}` };
}
