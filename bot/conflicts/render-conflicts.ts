import type { ReviewState } from '../review/load-review-state.js';
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

function describe({ shortId, conflict, runs, step }: PullConflict): string {
  const links = runs.map((run, index) => `${run.url ? `[run ${index + 1}](${run.url})` : run.id}${run.verdict ? ` (${run.verdict})` : ''}`).join(' vs ');
  const what = step ? `step \`${step}\` disagrees across runs: ${links}` : `${conflict.kind}: ${conflict.message}`;
  const last = conflict.resolutions.at(-1);
  const state = isUnresolved(conflict)
    ? conflict.status === 'escalated'
      ? '🔺 escalated'
      : conflict.status === 'retrying'
        ? '🔁 retrying'
        : '⛔ open'
    : `✅ ${conflict.status}${last ? ` (${last.strategy.toLowerCase()} by @${last.by.replace(/^@/, '')}${last.reason ? `: ${last.reason}` : ''})` : ''}`;
  return `- \`${shortId}\` ${state} — ${what}`;
}
