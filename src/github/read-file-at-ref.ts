import { callGitHub, GitHubApiError } from './call-github.js';
import type { RepoRef } from './check-run-types.js';
import type { GitHubClient } from './create-github-client.js';

/**
 * The one call this needs, so that any Octokit with the REST methods can read a file: the Action's
 * client and the one Probot hands the bot (whose plugin versions differ) both fit.
 */
export interface ContentsReader {
  rest: { repos: { getContent(params: { owner: string; repo: string; path: string; ref: string; [key: string]: unknown }): Promise<{ data: ContentData }> } };
}
type ContentData = Awaited<ReturnType<GitHubClient['rest']['repos']['getContent']>>['data'];

/**
 * A file's bytes at a commit, through the contents API (never the checked-out tree, which for a pull
 * request is the proposed code). Null when the file does not exist at that commit. Bytes, not text:
 * the policy's digest is over exactly what the commit holds, and invalid UTF-8 is refused later.
 */
export async function readFileAtRef(octokit: ContentsReader, repo: RepoRef, path: string, ref: string): Promise<Buffer | null> {
  try {
    const { data } = await callGitHub(`read ${path} at ${ref.slice(0, 12)}`, () => octokit.rest.repos.getContent({ ...repo, path, ref }));
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) {
      throw new GitHubApiError(`${path} at ${ref.slice(0, 12)} is a ${Array.isArray(data) ? 'directory' : data.type}, expected a file`, null, undefined);
    }
    // Files over 1 MB come back without content; a policy never is that large.
    if (data.encoding !== 'base64') throw new GitHubApiError(`${path} at ${ref.slice(0, 12)} is too large to read (${data.size} bytes)`, null, undefined);
    return Buffer.from(data.content, 'base64');
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 404) return null;
    throw error;
  }
}
