import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import { durationsFromJson, readTimingHistory, type TimingHistory } from '../tools/timing-history.js';
import { type BotApi, getBotApi } from './bot-api.js';
import type { ActionContext } from './context.js';
import type { ActionInputs } from './inputs.js';

/**
 * A shard's timing history, from the first source that gives one: the `timings` file (restored by a
 * cache step, say), then the bot's API (the base branch's newest recorded run). None usable, the shard
 * is balanced by file size and the summary says why each source failed: balance never fails a run.
 */
export async function readShardHistory(inputs: ActionInputs, context: ActionContext, notices: string[]): Promise<TimingHistory | null> {
  if (inputs.timings) {
    try {
      // In the checkout of a pull request: read only as regular files inside the workspace, never through a link.
      return await readTimingHistory(join(context.workspace, inputs.timings), { within: context.workspace });
    } catch (error) {
      notices.push(`The timing history \`${inputs.timings}\` could not be used (${errorMessage(error)}).`);
    }
  }
  const branch = historyBranch(context);
  if (inputs.apiUrl && inputs.apiToken && branch) {
    try {
      return await fetchTimingHistory({ url: inputs.apiUrl, token: inputs.apiToken }, context, branch);
    } catch (error) {
      notices.push(`The timing history of \`${branch}\` from the bot could not be used (${errorMessage(error)}).`);
    }
  }
  return null;
}

/** The branch whose history balances this run: a pull request's base, else the branch this run is on. */
export function historyBranch(context: ActionContext): string | null {
  return context.target.kind === 'pull_request' ? context.target.baseRef : context.branch;
}

async function fetchTimingHistory(api: BotApi, context: ActionContext, branch: string): Promise<TimingHistory> {
  const { owner, repo } = context.repo;
  const body = await getBotApi(api, `/projects/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/timings`, { branch });
  const run = body !== null && typeof body === 'object' && 'runId' in body ? String(body.runId) : 'a run';
  // The same reader as a durations file: `{ tests: { id: seconds } }`, every value checked.
  const durations = durationsFromJson(body, `the bot's timings of ${branch}`);
  return { source: `run ${run}, the newest the bot recorded on ${branch}`, durations };
}
