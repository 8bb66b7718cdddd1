import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { restEndpointMethods } from '@octokit/plugin-rest-endpoint-methods';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';

const QfOctokit = Octokit.plugin(restEndpointMethods, paginateRest, retry, throttling);
export type GitHubClient = InstanceType<typeof QfOctokit>;

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
  /** Spacing between write requests. Default: the throttling plugin's own (1 s, as GitHub recommends). */
  writeIntervalMs?: number;
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
      ...(tuning.writeIntervalMs === undefined ? {} : { write: spacedGroup(tuning.writeIntervalMs) }),
    },
  });
}

type WriteGroup = NonNullable<NonNullable<ConstructorParameters<typeof QfOctokit>[0]>['throttle']>['write'];

/**
 * A stand-in for the plugin's Bottleneck write group (the only part it uses is `key().schedule()`):
 * writes run one at a time, `intervalMs` apart. Bottleneck itself is not our dependency.
 */
function spacedGroup(intervalMs: number): WriteGroup {
  let last = Promise.resolve();
  let lastAt = 0;
  const limiter = {
    schedule<T>(...args: unknown[]): Promise<T> {
      const fn = args.find((arg): arg is (...rest: unknown[]) => Promise<T> => typeof arg === 'function');
      const fnIndex = fn ? args.indexOf(fn) : -1;
      const rest = args.slice(fnIndex + 1);
      const run = last.then(async () => {
        const wait = lastAt + intervalMs - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        lastAt = Date.now();
      });
      last = run.catch(() => undefined);
      return run.then(() => (fn ? fn(...rest) : (undefined as T)));
    },
  };
  return { key: () => limiter } as unknown as WriteGroup;
}
