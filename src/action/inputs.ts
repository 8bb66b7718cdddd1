import type { KeyObject } from 'node:crypto';
import * as core from '@actions/core';
import * as z from 'zod';
import { ActionInput, DEFAULT_ARTIFACT_NAME, DEFAULT_POLICY_PATH } from '../constants.js';
import { QfError } from '../errors.js';
import { signingKeyFromPem, verificationKeyFromPem } from '../evidence/dsse.js';
import { MAX_SHARDS, type ShardRef } from '../tools/partition-tests.js';

/** A repository-relative path: read through the contents API, so it may not leave the repository. */
const repoPath = z
  .string()
  .refine((value) => !value.startsWith('/') && !value.split(/[\\/]/).includes('..'), 'a path relative to the repository root, without ".."');

const booleanText = z
  .enum(['true', 'True', 'TRUE', 'false', 'False', 'FALSE'], { error: 'true or false' })
  .transform((value) => value.toLowerCase() === 'true');

const shardNumber = z.coerce
  .number({ error: `a whole number from 1 to ${MAX_SHARDS}` })
  .int(`a whole number from 1 to ${MAX_SHARDS}`)
  .min(1, `a whole number from 1 to ${MAX_SHARDS}`)
  .max(MAX_SHARDS, `a whole number from 1 to ${MAX_SHARDS}`);

/** Every input of action.yml, parsed once. Empty strings arrive as undefined, so defaults apply. */
const InputsSchema = z.object({
  [ActionInput.policy]: repoPath.default(DEFAULT_POLICY_PATH),
  [ActionInput.githubToken]: z.string({ error: 'a token (the default is the workflow token, `github.token`)' }),
  [ActionInput.workingDirectory]: repoPath.default('.'),
  [ActionInput.artifactName]: z
    .string()
    .regex(/^[^":<>|*?\r\n\\/]+$/, 'an artifact name without any of " : < > | * ? \\ / or line breaks')
    .max(256, 'at most 256 characters')
    .default(DEFAULT_ARTIFACT_NAME),
  [ActionInput.approvalApp]: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'the slug of a GitHub App (lower-case letters, digits and dashes), e.g. "qualityfoundry"')
    .optional(),
  [ActionInput.mode]: z.enum(['gate', 'publish', 'merge'], { error: 'one of "gate", "publish", "merge"' }).default('gate'),
  [ActionInput.dryRun]: booleanText.default(false),
  [ActionInput.signingKey]: z.string().optional(),
  [ActionInput.verifyKey]: z.string().optional(),
  [ActionInput.shardIndex]: shardNumber.optional(),
  [ActionInput.shardTotal]: shardNumber.optional(),
  [ActionInput.timings]: repoPath.optional(),
  [ActionInput.apiUrl]: z
    .url({ protocol: /^https?$/, error: 'the bot\'s public URL (its QF_PUBLIC_URL), e.g. "https://qf.example.com"' })
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  [ActionInput.apiToken]: z.string().optional(),
  [ActionInput.signKeyless]: booleanText.default(false),
  [ActionInput.sigstoreFulcioUrl]: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).default('https://fulcio.sigstore.dev'),
  [ActionInput.sigstoreRekorUrl]: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).default('https://rekor.sigstore.dev'),
});

/** Inputs whose value is never shown in a message, even a malformed one. */
const SECRET_INPUTS: readonly string[] = [ActionInput.githubToken, ActionInput.signingKey, ActionInput.apiToken];

export interface ActionInputs {
  /** Policy file, repository-relative. */
  policy: string;
  githubToken: string;
  /** Where the tested project lives, repository-relative. */
  workingDirectory: string;
  artifactName: string;
  /** Slug of the app whose approval check runs count; none: no approval counts. */
  approvalApp: string | undefined;
  mode: 'gate' | 'publish' | 'merge';
  /** Compute and report (job summary, outputs) but write nothing to GitHub: no check runs, no artifact. */
  dryRun: boolean;
  /** Gate mode: signs the evidence (a DSSE envelope over an in-toto Statement) before it is uploaded. */
  signingKey: KeyObject | undefined;
  /** Publish and merge modes: the bundle (each shard's) must carry a signature by this key. */
  verifyKey: KeyObject | undefined;
  /** Gate mode: this job is one shard of a matrix. */
  shard: ShardRef | undefined;
  /** Merge mode: how many shards to merge (each one's artifact is expected). */
  mergeShards: number | undefined;
  /** Gate mode with a shard: a timing history in the checkout (JUnit report, durations JSON or evidence folder). */
  timings: string | undefined;
  /** The bot's public URL: the check-run summary links to this run's page on its dashboard. */
  apiUrl: string | undefined;
  /** A `read` token of the bot's API at `apiUrl`: the shards' timing history comes from there. */
  apiToken: string | undefined;
  /** Gate mode: signs keyless with Sigstore (the workflow's OIDC token, Fulcio, Rekor) as `evidence.sigstore.json`. */
  keyless: { fulcioUrl: string; rekorUrl: string } | undefined;
}

/** Reads and validates every input; throws one BAD_INPUT error naming each bad input and what was expected. */
export function readInputs(getInput: (name: string) => string = (name) => core.getInput(name), env: NodeJS.ProcessEnv = process.env): ActionInputs {
  const raw: Record<string, string | undefined> = {};
  for (const name of Object.values(ActionInput)) {
    const value = getInput(name).trim();
    raw[name] = value === '' ? undefined : value;
  }
  const parsed = InputsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const got = raw[name];
      const message = issue.message.replace(/^Invalid input: /, '');
      // Tokens never appear in messages, even a malformed one.
      const shown = got === undefined ? 'nothing' : SECRET_INPUTS.includes(name) ? 'a value (not shown)' : JSON.stringify(got);
      return `input "${name}": expected ${message}, got ${shown}`;
    });
    throw new QfError('BAD_INPUT', problems.join('\n'));
  }
  const data = parsed.data;
  const mode = data[ActionInput.mode];
  const shard = shardInputs(mode, data[ActionInput.shardIndex], data[ActionInput.shardTotal]);
  if (data[ActionInput.timings] !== undefined && (shard === undefined || mode === 'merge'))
    throw new QfError(
      'BAD_INPUT',
      `input "${ActionInput.timings}": balances the shards of a matrix; expected "${ActionInput.shardIndex}" and "${ActionInput.shardTotal}" too.`,
    );
  if (data[ActionInput.apiToken] !== undefined && data[ActionInput.apiUrl] === undefined)
    throw new QfError('BAD_INPUT', `input "${ActionInput.apiToken}": a token of the bot's API; expected "${ActionInput.apiUrl}" too (where the API is).`);
  const signingKey = data[ActionInput.signingKey];
  const verifyKey = data[ActionInput.verifyKey];
  // The runner offers an OIDC token only to jobs granted `id-token: write`: say so before anything runs.
  if (data[ActionInput.signKeyless] && !(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)) {
    throw new QfError(
      'BAD_INPUT',
      `input "${ActionInput.signKeyless}": true, but this job has no OIDC token to sign with; grant it \`permissions: id-token: write\` (GitHub offers none to pull requests from forks).`,
    );
  }
  return {
    policy: data[ActionInput.policy],
    githubToken: data[ActionInput.githubToken],
    workingDirectory: data[ActionInput.workingDirectory],
    artifactName: data[ActionInput.artifactName],
    approvalApp: data[ActionInput.approvalApp],
    mode: data[ActionInput.mode],
    dryRun: data[ActionInput.dryRun],
    signingKey: signingKey === undefined ? undefined : signingKeyFromPem(signingKey, `input "${ActionInput.signingKey}"`),
    verifyKey: verifyKey === undefined ? undefined : verificationKeyFromPem(verifyKey, `input "${ActionInput.verifyKey}"`),
    shard: mode === 'merge' ? undefined : shard,
    mergeShards: mode === 'merge' ? shard?.total : undefined,
    timings: data[ActionInput.timings],
    apiUrl: data[ActionInput.apiUrl],
    apiToken: data[ActionInput.apiToken],
    keyless: data[ActionInput.signKeyless] ? { fulcioUrl: data[ActionInput.sigstoreFulcioUrl], rekorUrl: data[ActionInput.sigstoreRekorUrl] } : undefined,
  };
}

/** Gate mode takes both shard inputs or neither, index ≤ total; merge mode needs the total (how many shards to wait for). */
function shardInputs(mode: ActionInputs['mode'], index: number | undefined, total: number | undefined): ShardRef | undefined {
  const { shardIndex: indexName, shardTotal: totalName } = ActionInput;
  if (mode === 'merge') {
    if (total === undefined) throw new QfError('BAD_INPUT', `input "${totalName}": expected the number of shards to merge (mode "merge"), got nothing`);
    if (index !== undefined) throw new QfError('BAD_INPUT', `input "${indexName}": not used in mode "merge" (it merges every shard); leave it out`);
    return { index: 0, total };
  }
  if (index === undefined && total === undefined) return undefined;
  if (mode === 'publish')
    throw new QfError('BAD_INPUT', `input "${indexName}"/"${totalName}": not used in mode "publish"; a matrix is merged with mode "merge"`);
  if (index === undefined || total === undefined)
    throw new QfError(
      'BAD_INPUT',
      `input "${index === undefined ? indexName : totalName}": expected it with "${index === undefined ? totalName : indexName}" (a shard is I of N), got nothing`,
    );
  if (index > total) throw new QfError('BAD_INPUT', `input "${indexName}": expected at most "${totalName}" (${total}), got "${index}"`);
  return { index, total };
}
