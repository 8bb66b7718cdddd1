import { describe, expect, it } from 'vitest';
import { loadOverview } from '../../bot/dashboard/load-overview.js';
import { loadTestStats } from '../../bot/dashboard/load-test-stats.js';
import { startChainVerifier } from '../../bot/dashboard/start-chain-verifier.js';
import { projectChain } from '../../src/governance/index.js';
import type { StorageBackend, TestResultRow } from '../../src/store/index.js';
import { rawSql } from '../support/store-raw-sql.js';
import { type BackendHarness, withStore } from './storage-backend.contract.js';

const P = 'acme/widgets';
const at = (day: number, hour = 0): string => new Date(Date.UTC(2026, 0, day, hour)).toISOString();

/**
 * Five runs over three days and three head SHAs:
 *   run   head  verdict         test_a  test_b  test_c
 *   r1    s1    pass            passed  passed  skipped
 *   r2    s1    fail            failed  passed  skipped   (s1 disagrees on test_a)
 *   r3    s2    needs_approval  passed  failed  skipped
 *   r4    s3    fail            failed  failed  skipped
 *   r5    s3    pass            passed  passed  skipped   (s3 disagrees on test_a and test_b)
 * test_a flips 4 times, test_b twice.
 */
const OUTCOMES: Record<string, [string, string]> = {
  r1: ['passed', 'passed'],
  r2: ['failed', 'passed'],
  r3: ['passed', 'failed'],
  r4: ['failed', 'failed'],
  r5: ['passed', 'passed'],
};
const RUNS = [
  { id: 'r1', head: 's1', verdict: 'pass', day: 1 },
  { id: 'r2', head: 's1', verdict: 'fail', day: 1 },
  { id: 'r3', head: 's2', verdict: 'needs_approval', day: 2 },
  { id: 'r4', head: 's3', verdict: 'fail', day: 3 },
  { id: 'r5', head: 's3', verdict: 'pass', day: 3 },
];

async function seed(store: StorageBackend): Promise<void> {
  await store.upsertProject({ id: P, createdAt: at(1) });
  for (const [index, run] of RUNS.entries()) {
    const startedAt = at(run.day, index);
    await store.upsertRun({
      id: run.id,
      projectId: P,
      startedAt,
      finishedAt: at(run.day, index + 1),
      mode: 'strict',
      verdict: run.verdict,
      headSha: run.head,
      data: { durationMs: 1000 * (index + 1), planHash: 'p'.repeat(64), metrics: { 'evals.pass_rate': [0.9, 0.95, 0.8, 0.85, 0.85][index] } },
    });
    const [a, b] = OUTCOMES[run.id]!;
    const rows: TestResultRow[] = [
      ['t::test_a', a, 10],
      ['t::test_b', b, 200 + index],
      ['t::test_c', 'skipped', 0],
    ].map(([testId, outcome, ms], seq) => ({
      projectId: P,
      runId: run.id,
      runStartedAt: startedAt,
      headSha: run.head,
      stepId: 'unit',
      seq,
      testId: testId as string,
      file: 't.py',
      line: 3 + seq,
      outcome: outcome as string,
      durationMs: ms as number,
      message: outcome === 'failed' ? `boom in ${run.id}` : null,
    }));
    await store.insertTestResults(rows);
  }
}

export function dashboardReadsContract(harness: BackendHarness): void {
  describe("the dashboard's reads", () => {
    it('test results: idempotent inserts, a run or one test newest first, summaries with flips and disagreeing head SHAs, histories', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        await seed(store);
        // A replayed ingestion changes nothing.
        await store.insertTestResults((await store.listTestResults({ projectId: P, runId: 'r2' })).map((row) => ({ ...row, outcome: 'passed' })));
        expect((await store.listTestResults({ projectId: P, runId: 'r2', outcomes: ['failed'] })).map((r) => [r.testId, r.message, r.line])).toEqual([
          ['t::test_a', 'boom in r2', 3],
        ]);
        expect((await store.listTestResults({ projectId: P, testId: 't::test_b', limit: 2 })).map((r) => r.runId)).toEqual(['r5', 'r4']);

        const summaries = (await store.summarizeTestResults(P, at(1))).sort((x, y) => x.testId.localeCompare(y.testId));
        expect(summaries).toEqual([
          { testId: 't::test_a', file: 't.py', line: 3, runs: 5, failures: 2, disagreeingShas: 2, flips: 4, meanMs: 10, maxMs: 10 },
          { testId: 't::test_b', file: 't.py', line: 4, runs: 5, failures: 2, disagreeingShas: 1, flips: 2, meanMs: 202, maxMs: 204 },
          { testId: 't::test_c', file: 't.py', line: 5, runs: 5, failures: 0, disagreeingShas: 0, flips: 0, meanMs: 0, maxMs: 0 },
        ]);
        // The window: only runs from day 3 on.
        expect((await store.summarizeTestResults(P, at(3))).find((s) => s.testId === 't::test_a')).toMatchObject({ runs: 2, flips: 1, disagreeingShas: 1 });
        const histories = await store.listTestHistories(P, ['t::test_a', 't::test_b'], at(1), 2);
        expect(histories.map((r) => [r.testId, r.runId])).toEqual([
          ['t::test_a', 'r5'],
          ['t::test_a', 'r4'],
          ['t::test_b', 'r5'],
          ['t::test_b', 'r4'],
        ]);
        expect(await store.listTestHistories(P, [], at(1), 2)).toEqual([]);

        const stats = await loadTestStats(store, P);
        expect(stats.flakiest.map((s) => [s.testId, s.history.map((h) => h.outcome).join(',')])).toEqual([
          ['t::test_a', 'passed,failed,passed,failed,passed'],
          ['t::test_b', 'passed,passed,failed,failed,passed'],
        ]);
        expect(stats.slowest.map((s) => s.testId)).toEqual(['t::test_b', 't::test_a', 't::test_c']);
        expect(stats.failing.map((s) => [s.testId, s.failures])).toEqual([
          ['t::test_a', 2],
          ['t::test_b', 2],
        ]);
      });
    });

    it('runs: projects, newest runs, verdicts per day, first approvals; the overview computes latency, eval regressions and the chain status', async () => {
      const connection = await harness.newConnection();
      await withStore(connection, async (store) => {
        await seed(store);
        expect((await store.listProjects()).map((p) => p.id)).toEqual([P]);
        expect((await store.listRecentRuns(P, 2)).map((r) => r.id)).toEqual(['r5', 'r4']);
        expect(await store.countVerdictsByDay(P)).toEqual([
          { day: '2026-01-01', verdict: 'fail', count: 1 },
          { day: '2026-01-01', verdict: 'pass', count: 1 },
          { day: '2026-01-02', verdict: 'needs_approval', count: 1 },
          { day: '2026-01-03', verdict: 'fail', count: 1 },
          { day: '2026-01-03', verdict: 'pass', count: 1 },
        ]);
        // r3 published the plan (finished 2026-01-02 03:00); two approvals, the first counts.
        for (const [by, hour] of [
          ['bob', 9],
          ['alice', 5],
        ] as const) {
          await store.recordPrReview({
            projectId: P,
            pullNumber: 7,
            headSha: 's2',
            planHash: 'p'.repeat(64),
            by,
            verdict: 'approve',
            permission: 'maintain',
            reason: '',
            commentId: null,
            commentUrl: null,
            at: at(2, hour),
          });
        }
        expect(await store.listFirstApprovals(P)).toEqual([{ headSha: 's2', planHash: 'p'.repeat(64), at: at(2, 5) }]);
        await store.appendAudit(projectChain(P), P, [
          { actor: 'qualityfoundry-bot', action: 'bot.evidence.ingested', subject: 'r1', at: at(1) },
          { actor: 'qualityfoundry-bot', action: 'bot.evidence.ingested', subject: 'r2', at: at(1) },
        ]);

        // On demand only (no timer): nothing verified yet, the overview says so.
        const warnings: string[] = [];
        const chains = startChainVerifier({ store, clock: () => new Date(at(4)), log: { warn: (_f, m) => warnings.push(m) }, intervalMs: 0 });
        expect((await loadOverview(store, P, chains)).audit).toBeUndefined();
        await chains.runNow();
        expect(chains.verifications).toBe(1);
        const overview = await loadOverview(store, P, chains);
        expect(overview).toMatchObject({
          totalRuns: 5,
          passRate: 0.5,
          durationP50Ms: 3000,
          durationP95Ms: 5000,
          approvals: [{ runId: 'r3', headSha: 's2', publishedAt: at(2, 3), approvedAt: at(2, 5), seconds: 7200 }],
          approvalP50Seconds: 7200,
          audit: { chain: projectChain(P), ok: true, count: 2, throughSeq: 2, verifiedAt: at(4), durationMs: expect.any(Number) },
        });
        expect(overview.evals.map((e) => [e.runId, e.passRate, e.regressedFrom])).toEqual([
          ['r1', 0.9, undefined],
          ['r2', 0.95, undefined],
          ['r3', 0.8, 0.95],
          ['r4', 0.85, undefined],
          ['r5', 0.85, undefined],
        ]);

        // Views read the latest result: none of them verifies the chain again.
        for (let view = 0; view < 3; view++) await loadOverview(store, P, chains);
        expect(chains.verifications).toBe(1);

        // An attacker with database access edits an old event. Nothing was appended: the round skips the chain.
        await rawSql(connection, `UPDATE audit_events SET actor = 'mallory' WHERE chain = ? AND seq = 1`, [projectChain(P)]);
        await chains.runNow();
        expect(chains.verifications).toBe(1);
        // The next append makes the next round verify the whole chain again, not only the new event: caught.
        await store.appendAudit(projectChain(P), P, [{ actor: 'qualityfoundry-bot', action: 'bot.evidence.ingested', subject: 'r3', at: at(4) }]);
        await chains.runNow();
        expect(chains.verifications).toBe(2);
        const broken = await loadOverview(store, P, chains);
        expect(broken.audit).toMatchObject({ ok: false, throughSeq: 3, brokenSeq: 1, count: 0 });
        expect(warnings).toEqual(['audit chain BROKEN']);
      });
    });
  });
}
