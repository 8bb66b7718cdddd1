import type { StorageBackend, TestSummary } from '../../src/store/index.js';

/** Runs the tests page looks back over (the newest): a window, so its cost does not grow with history. */
export const TESTS_WINDOW = 100;
/** Rows per table. */
export const TOP = 25;
/** Outcomes shown in each test's history strip, newest last. */
export const HISTORY = 20;

export interface TestStat extends TestSummary {
  /** The newest HISTORY outcomes in the window, oldest first, with their runs. */
  history: Array<{ runId: string; outcome: string; durationMs: number }>;
}

export interface TestStats {
  windowRuns: number;
  flakiest: TestStat[];
  slowest: TestStat[];
  failing: TestStat[];
}

const byId = (a: TestSummary, b: TestSummary): number => a.testId.localeCompare(b.testId);

/** The flakiest, slowest and most often failing tests of the project's newest TESTS_WINDOW runs. */
export async function loadTestStats(store: StorageBackend, projectId: string): Promise<TestStats> {
  const recent = await store.listRecentRuns(projectId, TESTS_WINDOW);
  const oldest = recent.at(-1);
  if (!oldest) return { windowRuns: 0, flakiest: [], slowest: [], failing: [] };
  const summaries = await store.summarizeTestResults(projectId, oldest.startedAt);
  const flakiest = summaries
    .filter((s) => s.disagreeingShas + s.flips > 0)
    .sort((a, b) => b.disagreeingShas + b.flips - (a.disagreeingShas + a.flips) || byId(a, b))
    .slice(0, TOP);
  const slowest = [...summaries].sort((a, b) => b.meanMs - a.meanMs || byId(a, b)).slice(0, TOP);
  const failing = summaries
    .filter((s) => s.failures > 0)
    .sort((a, b) => b.failures - a.failures || byId(a, b))
    .slice(0, TOP);
  const shown = [...new Set([...flakiest, ...slowest, ...failing].map((s) => s.testId))];
  const histories = new Map<string, TestStat['history']>();
  for (const row of await store.listTestHistories(projectId, shown, oldest.startedAt, HISTORY)) {
    const list = histories.get(row.testId) ?? [];
    list.unshift({ runId: row.runId, outcome: row.outcome, durationMs: row.durationMs });
    histories.set(row.testId, list);
  }
  const withHistory = (s: TestSummary): TestStat => ({ ...s, history: histories.get(s.testId) ?? [] });
  return { windowRuns: recent.length, flakiest: flakiest.map(withHistory), slowest: slowest.map(withHistory), failing: failing.map(withHistory) };
}
