import type { StorageBackend, TestResultRow } from '../../src/store/index.js';

/** Runs the tests page looks back over (the newest): a window, so its cost does not grow with history. */
export const TESTS_WINDOW = 100;
/** Rows per table. */
export const TOP = 25;
/** Outcomes shown in each test's history strip, newest last. */
export const HISTORY = 20;

export interface TestStat {
  testId: string;
  file: string | null;
  line: number | null;
  runs: number;
  failures: number;
  /** Head SHAs on which the test both passed and failed (re-runs that disagree). */
  disagreeingShas: number;
  /** Changes between pass and fail from one run to the next. */
  flips: number;
  meanMs: number;
  maxMs: number;
  /** The newest HISTORY outcomes, oldest first, with their runs. */
  history: Array<{ runId: string; outcome: string; durationMs: number }>;
}

export interface TestStats {
  windowRuns: number;
  flakiest: TestStat[];
  slowest: TestStat[];
  failing: TestStat[];
}

const FAILED = new Set(['failed', 'error']);
const judged = (outcome: string): 'pass' | 'fail' | null => (outcome === 'passed' ? 'pass' : FAILED.has(outcome) ? 'fail' : null);

/** The flakiest, slowest and most often failing tests of the project's newest TESTS_WINDOW runs. */
export async function loadTestStats(store: StorageBackend, projectId: string): Promise<TestStats> {
  const recent = await store.listRecentRuns(projectId, TESTS_WINDOW);
  const oldest = recent.at(-1);
  if (!oldest) return { windowRuns: 0, flakiest: [], slowest: [], failing: [] };
  const rows = await store.listTestResults({ projectId, since: oldest.startedAt });
  const stats = summarize(rows);
  return {
    windowRuns: recent.length,
    flakiest: stats
      .filter((s) => s.disagreeingShas + s.flips > 0)
      .sort((a, b) => b.disagreeingShas + b.flips - (a.disagreeingShas + a.flips) || a.testId.localeCompare(b.testId))
      .slice(0, TOP),
    slowest: [...stats].sort((a, b) => b.meanMs - a.meanMs || a.testId.localeCompare(b.testId)).slice(0, TOP),
    failing: stats
      .filter((s) => s.failures > 0)
      .sort((a, b) => b.failures - a.failures || a.testId.localeCompare(b.testId))
      .slice(0, TOP),
  };
}

/** Per test, in run order (rows come oldest first). */
export function summarize(rows: readonly TestResultRow[]): TestStat[] {
  const byTest = new Map<string, TestResultRow[]>();
  for (const row of rows) {
    const list = byTest.get(row.testId);
    if (list) list.push(row);
    else byTest.set(row.testId, [row]);
  }
  const stats: TestStat[] = [];
  for (const [testId, results] of byTest) {
    const bySha = new Map<string, Set<string>>();
    let flips = 0;
    let previous: 'pass' | 'fail' | null = null;
    let total = 0;
    let max = 0;
    for (const r of results) {
      const outcome = judged(r.outcome);
      if (outcome && r.headSha) {
        const seen = bySha.get(r.headSha) ?? new Set<string>();
        seen.add(outcome);
        bySha.set(r.headSha, seen);
      }
      if (outcome) {
        if (previous && outcome !== previous) flips += 1;
        previous = outcome;
      }
      total += r.durationMs;
      max = Math.max(max, r.durationMs);
    }
    const last = results.at(-1)!;
    stats.push({
      testId,
      file: last.file,
      line: last.line,
      runs: results.length,
      failures: results.filter((r) => FAILED.has(r.outcome)).length,
      disagreeingShas: [...bySha.values()].filter((set) => set.size > 1).length,
      flips,
      meanMs: total / results.length,
      maxMs: max,
      history: results.slice(-HISTORY).map((r) => ({ runId: r.runId, outcome: r.outcome, durationMs: r.durationMs })),
    });
  }
  return stats;
}
