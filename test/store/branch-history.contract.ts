import { describe, expect, it } from 'vitest';
import type { StorageBackend, TestResultRow } from '../../src/store/index.js';
import { type BackendHarness, withStore } from './storage-backend.contract.js';

const P = 'acme/widgets';
const at = (hour: number): string => new Date(Date.UTC(2026, 0, 1, hour)).toISOString();

/** A run and its test results (`[test id, step, ms]`). */
async function seedRun(store: StorageBackend, id: string, hour: number, branch: string | null, tests: [string, string, number][]): Promise<void> {
  await store.upsertRun({
    id,
    projectId: P,
    startedAt: at(hour),
    finishedAt: at(hour),
    mode: 'strict',
    verdict: 'pass',
    headSha: `${hour}`.repeat(40),
    branch,
    data: {},
  });
  const rows: TestResultRow[] = tests.map(([testId, stepId, durationMs], seq) => ({
    projectId: P,
    runId: id,
    runStartedAt: at(hour),
    headSha: `${hour}`.repeat(40),
    stepId,
    seq,
    testId,
    file: null,
    line: null,
    outcome: 'passed',
    durationMs,
    message: null,
  }));
  await store.insertTestResults(rows);
}

export function branchHistoryContract(harness: BackendHarness): void {
  describe("a branch's runs and their test durations", () => {
    it("lists a branch's runs and gives the newest one's durations that recorded results, summed per test over steps", async () => {
      await withStore(await harness.newConnection(), async (store) => {
        await store.upsertProject({ id: P, createdAt: at(0) });
        await seedRun(store, 'main-1', 1, 'main', [['t::a', 'unit', 1500]]);
        await seedRun(store, 'main-2', 2, 'main', [
          ['t::a', 'unit', 250],
          ['t::a', 'again', 500],
          ['t::b', 'unit', 1000],
        ]);
        // Newer, but a pull request's run (no branch), and a main run that recorded no test results.
        await seedRun(store, 'pr-1', 3, null, [['t::a', 'unit', 9000]]);
        await seedRun(store, 'main-3', 4, 'main', []);

        const durations = await store.latestTestDurations(P, 'main');
        expect(durations).toMatchObject({ runId: 'main-2', headSha: '2'.repeat(40), startedAt: at(2) });
        expect([...durations!.seconds]).toEqual(
          expect.arrayContaining([
            ['t::a', 0.75],
            ['t::b', 1],
          ]),
        );
        expect(durations!.seconds.size).toBe(2);
        expect(await store.latestTestDurations(P, 'release')).toBeUndefined();

        const page = await store.listPage({ of: 'runs', projectId: P, branch: 'main' }, { limit: 10 });
        expect(page.items.map((run) => [run.id, run.branch])).toEqual([
          ['main-3', 'main'],
          ['main-2', 'main'],
          ['main-1', 'main'],
        ]);
        expect((await store.getRun('pr-1'))?.branch).toBeUndefined();
      });
    });
  });
}
