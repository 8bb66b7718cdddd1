import { callGitHub } from '../../src/github/call-github.js';
import { AuditAction, STATUS_MARKER } from '../bot-constants.js';
import { projectChain } from '../../src/governance/index.js';
import type { ReviewState } from './load-review-state.js';
import { runPath } from '../dashboard/dashboard-links.js';
import { renderStatus, type Refusal, type RunLink } from './render-status.js';
import type { ReviewScope } from './review-types.js';

export interface StatusCommentResult {
  id: number;
  url: string;
  /** False when the comment was created by this call. */
  existed: boolean;
}

/** One writer per pull request at a time in this process, so two events never both create the comment. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Edits the pull request's status comment in place (found by its hidden marker among the bot's own
 * comments) or creates it. `create: false` only edits: events nobody must act on never add a comment.
 */
export function updateStatusComment(scope: ReviewScope, state: ReviewState, options: { create: boolean }): Promise<StatusCommentResult | null> {
  const key = `${scope.projectId}#${state.pull.number}`;
  const run = (queues.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => writeStatus(scope, state, options));
  queues.set(key, run);
  void run.finally(() => queues.get(key) === run && queues.delete(key)).catch(() => undefined);
  return run;
}

async function writeStatus(scope: ReviewScope, state: ReviewState, options: { create: boolean }): Promise<StatusCommentResult | null> {
  const body = renderStatus(state, await refusalsOf(scope, state.pull.number), await runLinksOf(scope, state.pull.headSha));
  const existing = await findStatusComment(scope, state.pull.number);
  if (existing) {
    if (existing.body !== body) {
      await callGitHub('edit the status comment', () => scope.octokit.rest.issues.updateComment({ ...scope.repo, comment_id: existing.id, body }));
    }
    return { id: existing.id, url: existing.url, existed: true };
  }
  if (!options.create) return null;
  // The queue above serialises one process; replicas sharing the store take a claim, so only one of
  // them creates the comment and the others edit it once it shows.
  const claim = `status-comment:${scope.projectId}#${state.pull.number}`;
  if (!(await scope.deps.store.claim(claim, scope.deps.clock().toISOString()))) {
    for (let attempt = 1; attempt <= CREATED_ELSEWHERE_CHECKS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      const created = await findStatusComment(scope, state.pull.number);
      if (created) {
        if (created.body !== body)
          await callGitHub('edit the status comment', () => scope.octokit.rest.issues.updateComment({ ...scope.repo, comment_id: created.id, body }));
        return { id: created.id, url: created.url, existed: true };
      }
    }
    // Claimed long ago and still absent (deleted by hand, or its creator failed): create it after all.
    scope.log.warn({ pull: state.pull.number }, 'the status comment was claimed but never appeared; creating it');
  }
  try {
    const { data } = await callGitHub('create the status comment', () =>
      scope.octokit.rest.issues.createComment({ ...scope.repo, issue_number: state.pull.number, body }),
    );
    return { id: data.id, url: data.html_url, existed: false };
  } catch (error) {
    await scope.deps.store.releaseClaim(claim).catch(() => undefined);
    throw error;
  }
}

/** How often a replica that lost the creation claim looks for the comment another one is creating (0.25 s, 0.5 s, …). */
const CREATED_ELSEWHERE_CHECKS = 5;

export async function findStatusComment(scope: ReviewScope, pullNumber: number): Promise<{ id: number; url: string; body: string } | null> {
  const comments = await callGitHub(`list the comments of #${pullNumber}`, () =>
    scope.octokit.paginate(scope.octokit.rest.issues.listComments, { ...scope.repo, issue_number: pullNumber, per_page: 100 }),
  );
  // Only the bot's own comments: anyone can paste the marker into theirs.
  const own = comments.find(
    (comment) => comment.user?.type === 'Bot' && comment.performed_via_github_app?.id === scope.deps.appId && (comment.body ?? '').startsWith(STATUS_MARKER),
  );
  return own ? { id: own.id, url: own.html_url, body: own.body ?? '' } : null;
}

export const pullSubject = (projectId: string, pullNumber: number): string => `${projectId}#${pullNumber}`;

/** Runs of the head shown as links to their dashboard pages; newest last. */
const RUN_LINKS = 5;

async function runLinksOf(scope: ReviewScope, headSha: string): Promise<RunLink[]> {
  const { publicUrl, store } = scope.deps;
  if (!publicUrl) return [];
  const runs = (await store.listRecentRuns(scope.projectId, 50)).filter((run) => run.headSha === headSha).slice(0, RUN_LINKS);
  return runs.reverse().map((run) => {
    const path = runPath(scope.projectId, run.id);
    return { label: `run ${decodeURIComponent(path.slice(path.lastIndexOf('/') + 1))} (${run.verdict ?? 'no verdict'})`, url: `${publicUrl}${path}` };
  });
}

async function refusalsOf(scope: ReviewScope, pullNumber: number): Promise<Refusal[]> {
  const events = await scope.deps.store.listAudit({
    chain: projectChain(scope.projectId),
    subject: pullSubject(scope.projectId, pullNumber),
    action: AuditAction.refused,
  });
  return events.map((event) => {
    const data = event.data as { verb?: string; reason?: string; headSha?: string | null };
    return { by: event.actor, verb: data.verb ?? '?', reason: data.reason ?? '', headSha: data.headSha ?? null, at: event.at };
  });
}
