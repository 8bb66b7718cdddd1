import { QfError } from '../errors.js';

/** Wraps an API call so a failure after the plugins' retries becomes a QfError naming what we tried. */
export async function callGitHub<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const status = (error as { status?: number }).status;
    const message = error instanceof Error ? error.message : String(error);
    throw new GitHubApiError(`Could not ${what}: ${status ? `HTTP ${status}: ` : ''}${message}`, status ?? null, error);
  }
}

export class GitHubApiError extends QfError {
  constructor(
    message: string,
    readonly status: number | null,
    cause: unknown,
  ) {
    super('GITHUB_API', message, { cause });
    this.name = 'GitHubApiError';
  }
}
