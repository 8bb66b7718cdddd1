import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { restEndpointMethods } from '@octokit/plugin-rest-endpoint-methods';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';

const QfOctokit = Octokit.plugin(restEndpointMethods, paginateRest, retry, throttling);
export type GitHubClient = InstanceType<typeof QfOctokit>;

/** The throttling plugin's group that spaces write requests (a Bottleneck group). */
export type WriteGroup = NonNullable<NonNullable<ConstructorParameters<typeof QfOctokit>[0]>['throttle']>['write'];

export interface ClientLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Knobs for the retry and throttling plugins; tests shrink the waits, production keeps GitHub's advice. */
export interface ClientTuning {
  /** Milliseconds per unit of retry delay (retry: (n+1)² units; rate limits: retry-after seconds). Default 1000. */
  retryAfterBaseValue?: number;
  /** Retries of a 5xx / 429 before giving up. Default 3. */
  retries?: number;
  /** Spaces write requests. Default: the throttling plugin's own (1 s apart, as GitHub recommends). */
  writeGroup?: WriteGroup;
  /** Retries after a primary or secondary rate limit. Default 2. */
  rateLimitRetries?: number;
}

export interface GitHubClientOptions {
  token: string;
  baseUrl: string;
  userAgent: string;
  log: ClientLog;
  tuning?: ClientTuning;
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const { tuning = {}, log } = options;
  const rateLimitRetries = tuning.rateLimitRetries ?? 2;
  const onLimit = (kind: string) => (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    log.warn(`${kind} on ${request.method} ${request.url}; ${retryCount < rateLimitRetries ? `retrying after ${retryAfter} s` : 'giving up'}`);
    return retryCount < rateLimitRetries;
  };
  return new QfOctokit({
    auth: options.token,
    baseUrl: options.baseUrl,
    userAgent: options.userAgent,
    log: { debug: log.debug, info: log.debug, warn: log.warn, error: log.error },
    retry: { retries: tuning.retries ?? 3, retryAfterBaseValue: tuning.retryAfterBaseValue ?? 1000 },
    throttle: {
      onRateLimit: onLimit('Rate limit'),
      onSecondaryRateLimit: onLimit('Secondary rate limit'),
      ...(tuning.retryAfterBaseValue === undefined ? {} : { retryAfterBaseValue: tuning.retryAfterBaseValue }),
      ...(tuning.writeGroup === undefined ? {} : { write: tuning.writeGroup }),
    },
  });
}
