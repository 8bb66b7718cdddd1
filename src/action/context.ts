import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MergeGroupEvent, PullRequestEvent, PushEvent, WorkflowRunEvent } from '@octokit/webhooks-types';
import { QfError } from '../errors.js';
import type { RepoRef } from '../github/check-run-types.js';

/** What the run is about, per event. Only pull requests carry a number, an author and labels. */
export type Target =
  | { kind: 'pull_request'; number: number; headSha: string; baseSha: string; baseRef: string; author: string; labels: string[]; isFork: boolean }
  | { kind: 'push' | 'merge_group' | 'workflow_dispatch'; headSha: string; baseSha: string | null }
  | {
      kind: 'workflow_run';
      runId: number;
      /** The attempt of that run whose evidence is published. */
      runAttempt: number;
      headSha: string;
      headBranch: string | undefined;
      headOwner: string | undefined;
      event: string;
    };

export interface ActionContext {
  eventName: string;
  repo: RepoRef;
  serverUrl: string;
  apiUrl: string;
  runId: number;
  /** GITHUB_RUN_ATTEMPT: 1, then 2, 3 … for each re-run of the same run id. */
  runAttempt: number;
  /** The workflow run's page: the gate check run's details_url. */
  runUrl: string;
  workspace: string;
  runnerTemp: string;
  /** The branch this run is on (GITHUB_REF_NAME of a branch ref); null for tags and pull requests' merge refs. */
  branch: string | null;
  target: Target;
}

const SUPPORTED = ['pull_request', 'pull_request_target', 'push', 'merge_group', 'workflow_dispatch', 'workflow_run'];
const NO_COMMIT = /^0{40}$/;

/** Reads the runner's GITHUB_* variables and the event payload. The only reader of the runner context. */
export function readContext(env: Record<string, string | undefined>): ActionContext {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new QfError('BAD_INPUT', `${name} is not set: QualityFoundry's Action must run inside a GitHub Actions job.`);
    return value;
  };
  const eventName = need('GITHUB_EVENT_NAME');
  if (!SUPPORTED.includes(eventName)) {
    throw new QfError('BAD_INPUT', `Event "${eventName}" is not supported; expected one of ${SUPPORTED.join(', ')}.`);
  }
  const [owner, repo] = need('GITHUB_REPOSITORY').split('/');
  if (!owner || !repo) throw new QfError('BAD_INPUT', `GITHUB_REPOSITORY must be owner/name, got "${env.GITHUB_REPOSITORY}".`);
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/$/, '');
  const runId = Number(need('GITHUB_RUN_ID'));
  const payload = readPayload(need('GITHUB_EVENT_PATH'));
  const workspace = resolve(env.GITHUB_WORKSPACE || process.cwd());
  return {
    eventName,
    repo: { owner, repo },
    serverUrl,
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/$/, ''),
    runId,
    runAttempt: Math.max(1, Number(env.GITHUB_RUN_ATTEMPT) || 1),
    runUrl: `${serverUrl}/${owner}/${repo}/actions/runs/${runId}`,
    workspace,
    runnerTemp: resolve(env.RUNNER_TEMP || workspace),
    branch: env.GITHUB_REF_TYPE === 'branch' && env.GITHUB_REF?.startsWith('refs/heads/') ? env.GITHUB_REF.slice('refs/heads/'.length) : null,
    target: targetOf(eventName, payload, need('GITHUB_SHA')),
  };
}

function readPayload(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new QfError('BAD_INPUT', `Cannot read the event payload ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function targetOf(eventName: string, payload: unknown, sha: string): Target {
  switch (eventName) {
    case 'pull_request':
    case 'pull_request_target': {
      // GITHUB_SHA is the test merge commit here; the check run belongs on the head commit.
      const { pull_request: pr } = payload as PullRequestEvent;
      return {
        kind: 'pull_request',
        number: pr.number,
        headSha: pr.head.sha,
        baseSha: pr.base.sha,
        baseRef: pr.base.ref,
        author: pr.user.login,
        labels: (pr.labels ?? []).map((label) => label.name),
        isFork: pr.head.repo?.full_name !== pr.base.repo.full_name,
      };
    }
    case 'push': {
      const push = payload as PushEvent;
      return { kind: 'push', headSha: push.after, baseSha: NO_COMMIT.test(push.before) ? null : push.before };
    }
    case 'merge_group': {
      const { merge_group: group } = payload as MergeGroupEvent;
      return { kind: 'merge_group', headSha: group.head_sha, baseSha: group.base_sha };
    }
    case 'workflow_run': {
      const { workflow_run: run } = payload as WorkflowRunEvent;
      return {
        kind: 'workflow_run',
        runId: run.id,
        runAttempt: run.run_attempt ?? 1,
        headSha: run.head_sha,
        headBranch: run.head_branch ?? undefined,
        headOwner: run.head_repository?.owner?.login,
        event: run.event,
      };
    }
    default:
      return { kind: 'workflow_dispatch', headSha: sha, baseSha: null };
  }
}
