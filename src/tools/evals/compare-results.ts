import type { EvalCaseResult } from '../../evidence/schema.js';

const ran = (status: EvalCaseResult['status']) => status === 'failed' || status === 'error';

/**
 * Head results with how each compares with the base (matched by suite and case id), plus the base's
 * cases the head no longer has. A regression is a case that passed on the base and fails or errors
 * on the head; a fix the other way round (suites in `uncompared`, whose base could not be read, are left as they are); a case vetoed or skipped on either side is unchanged
 * (nothing was measured there to compare).
 */
export function compareResults(
  head: readonly EvalCaseResult[],
  base: readonly EvalCaseResult[],
  uncompared: ReadonlySet<string>,
): { head: EvalCaseResult[]; removed: EvalCaseResult[] } {
  const key = (entry: EvalCaseResult) => `${entry.suite}\u0000${entry.id}`;
  const byKey = new Map(base.map((entry) => [key(entry), entry]));
  const compared = head.map((entry): EvalCaseResult => {
    if (uncompared.has(entry.suite)) return entry;
    const before = byKey.get(key(entry));
    if (!before) return { ...entry, comparison: 'new' };
    byKey.delete(key(entry));
    const comparison = before.status === 'passed' && ran(entry.status) ? 'regressed' : ran(before.status) && entry.status === 'passed' ? 'fixed' : 'unchanged';
    return { ...entry, comparison, baseStatus: before.status, ...(before.output !== undefined ? { baseOutput: before.output } : {}) };
  });
  const removed = [...byKey.values()].map(
    (entry): EvalCaseResult => ({
      ...entry,
      comparison: 'removed',
      baseStatus: entry.status,
      ...(entry.output !== undefined ? { baseOutput: entry.output } : {}),
    }),
  );
  return { head: compared, removed };
}
