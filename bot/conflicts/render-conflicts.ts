import type { ReviewState } from '../review/load-review-state.js';
import { isAutoResolved } from './hand-auto-resolutions.js';
import { isUnresolved, type PullConflict } from './pull-conflicts.js';

/** Status comment lines: what disagrees, with links to both runs, and the commands that settle it. */
export function renderConflicts(state: Pick<ReviewState, 'conflicts'>): string[] {
  if (state.conflicts.length === 0) return [];
  const unresolved = state.conflicts.filter((c) => isUnresolved(c.conflict));
  const lines = ['', `**Conflicts: ${unresolved.length} unresolved**${unresolved.length ? ' — the gate is not settled until each is resolved' : ''}`];
  for (const entry of state.conflicts) lines.push(describe(entry));
  if (unresolved.length > 0) {
    const id = unresolved[0]!.shortId;
    lines.push(
      '',
      `Resolve with \`/qf resolve ${id} retry\` (run again), \`/qf resolve ${id} override\` (take the newer result), \`/qf resolve ${id} merge <decision>\` or \`/qf resolve ${id} escalate [reason]\`.`,
    );
  }
  return lines;
}

function describe(entry: PullConflict): string {
  const { shortId, conflict } = entry;
  const last = conflict.resolutions.at(-1);
  const state = isUnresolved(conflict)
    ? conflict.status === 'escalated'
      ? '🔺 escalated'
      : conflict.status === 'retrying'
        ? '🔁 retrying'
        : '⛔ open'
    : `✅ ${isAutoResolved(conflict) ? 'auto-resolved' : conflict.status}${last ? ` (${last.strategy.toLowerCase()} by @${last.by.replace(/^@/, '')}${last.reason ? `: ${last.reason}` : ''})` : ''}`;
  return `- \`${shortId}\` ${state} — ${what(entry)}`;
}

/** What disagrees, in the reviewer's words, with a link to each run involved. */
function what({ conflict, runs, step, test, slot }: PullConflict): string {
  const links = runs
    .map(
      (run, index) =>
        `${run.url ? `[run ${index + 1}](${run.url})` : run.id}${run.shard ? ` shard ${run.shard}` : ''}${run.verdict ? ` (${run.verdict})` : ''}`,
    )
    .join(' vs ');
  if (conflict.kind === 'missing_dependency') {
    const missing = String(conflict.details.missing ?? '').replace(/^step:/, '');
    const produced = conflict.status === 'satisfied' ? 'which a later run of this head produced' : 'which no run of this head produced';
    return `${step ? `step \`${step}\`` : conflict.message} depends on \`${missing}\`, ${produced}: ${links}`;
  }
  if (test) return `test \`${test}\` disagrees across shards: ${links}`;
  if (slot) return `shard ${slot.shard} of step \`${slot.step}\` ran other tests in another run: ${links}`;
  return step ? `step \`${step}\` disagrees across runs: ${links}` : `${conflict.kind}: ${conflict.message}`;
}
