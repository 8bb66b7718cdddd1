import { describe, expect, it } from 'vitest';
import { isQfError } from '../../src/errors.js';
import { LATEST_SCHEMA_VERSION, openStore, type StorageBackend, type StoreConnection } from '../../src/store/index.js';
import type { ArtifactRecord, ConflictRecord, ProjectState } from '../../src/store/index.js';
import { rawSql } from '../support/store-raw-sql.js';

export interface BackendHarness {
  /** A fresh, empty database. */
  newConnection(): Promise<StoreConnection>;
}

const T0 = '2025-01-01T00:00:00.000Z';
const P = 'acme/widgets';

export async function withStore<T>(connection: StoreConnection, fn: (store: StorageBackend) => Promise<T>): Promise<T> {
  const store = await openStore(connection);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function seedProject(store: StorageBackend): Promise<void> {
  await store.upsertProject({ id: P, createdAt: T0 });
  await store.upsertRun({ id: 'run-1', projectId: P, startedAt: T0, finishedAt: null, mode: 'strict', verdict: null, headSha: 'abc', data: { n: 1 } });
}

const artifact = (over: Partial<ArtifactRecord> = {}): Omit<ArtifactRecord, 'version'> => ({
  id: `a-${Math.random().toString(36).slice(2)}`,
  projectId: P,
  runId: 'run-1',
  type: 'pytest.report',
  producer: 'run_pytest',
  iteration: 1,
  dependsOn: [],
  digest: 'd1',
  ref: 'reports/junit.xml',
  createdAt: T0,
  ...over,
});

/** The behaviour every StorageBackend must have; run by sqlite.test.ts and postgres.test.ts. */
export function storageBackendContract(harness: BackendHarness): void {
  describe('StorageBackend contract', () => {
    it('keeps projects and runs across reopen, with upserts replacing runs', async () => {
      const connection = await harness.newConnection();
      await withStore(connection, async (store) => {
        await seedProject(store);
        await store.upsertRun({
          id: 'run-1',
          projectId: P,
          startedAt: T0,
          finishedAt: '2025-01-01T00:01:00.000Z',
          mode: 'strict',
          verdict: 'pass',
          headSha: 'abc',
          data: { n: 2 },
        });
      });
      await withStore(connection, async (store) => {
        expect(await store.getProject(P)).toEqual({ id: P, createdAt: T0 });
        expect(await store.listRuns(P)).toEqual([
          { id: 'run-1', projectId: P, startedAt: T0, finishedAt: '2025-01-01T00:01:00.000Z', mode: 'strict', verdict: 'pass', headSha: 'abc', data: { n: 2 } },
        ]);
        expect(await store.getRun('nope')).toBeUndefined();
      });
    });

    it('allocates artifact versions per project and type, also under concurrent inserts', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        await seedProject(store);
        const inserted = await Promise.all(Array.from({ length: 12 }, (_, i) => store.insertArtifact(artifact({ digest: `d${i}` }))));
        expect(inserted.map((a) => a.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
        const other = await store.insertArtifact(artifact({ type: 'coverage' }));
        expect(other.version).toBe(1);
        expect((await store.listArtifacts(P)).length).toBe(13);
        expect(await store.getArtifact(other.id)).toEqual(other);
      });
    });

    it('rolls a failed transaction back completely', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        await seedProject(store);
        await expect(
          store.transaction(async (tx) => {
            await tx.insertArtifact(artifact({ id: 'kept-not' }));
            await tx.recordApproval({ projectId: P, runId: 'run-1', planHash: 'h', by: 'alice', permission: 'admin', at: T0, source: 'cli' });
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.getArtifact('kept-not')).toBeUndefined();
        expect(await store.listApprovals({ projectId: P })).toEqual([]);
      });
    });

    it('stores conflicts, tasks, approvals once per approver and deliveries once', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        await seedProject(store);
        const conflict: ConflictRecord = {
          id: 'c1',
          projectId: P,
          runId: 'run-1',
          kind: 'missing_dependency',
          artifactIds: ['a1'],
          message: 'm',
          details: { missing: 'x' },
          lowRisk: false,
          status: 'open',
          createdAt: T0,
          escalatedAt: null,
          resolvedAt: null,
          resolutions: [],
        };
        await store.saveConflict(conflict);
        await store.saveConflict({ ...conflict, status: 'resolved', resolvedAt: T0, resolutions: [{ strategy: 'OVERRIDE', by: 'bob', reason: 'ok', at: T0 }] });
        expect(await store.listConflicts(P, ['open'])).toEqual([]);
        expect((await store.getConflict('c1'))?.resolutions[0]?.by).toBe('bob');

        await store.upsertTask({ id: 't1', projectId: P, runId: null, kind: 'llm', status: 'queued', data: {}, createdAt: T0, updatedAt: T0 });
        await store.upsertTask({ id: 't1', projectId: P, runId: null, kind: 'llm', status: 'done', data: { ok: true }, createdAt: T0, updatedAt: T0 });
        expect((await store.listTasks(P)).map((t) => t.status)).toEqual(['done']);

        const approval = { projectId: P, runId: 'run-1', planHash: 'h', by: 'alice', permission: 'maintain', at: T0, source: 'check-run' };
        expect(await Promise.all([store.recordApproval(approval), store.recordApproval(approval)])).toEqual(expect.arrayContaining([true, false]));
        expect(await store.listApprovals({ projectId: P, since: T0 })).toEqual([approval]);

        const seen = await Promise.all([1, 2, 3].map(() => store.markDeliveryProcessed('delivery-1', 'pull_request', T0)));
        expect(seen.filter(Boolean)).toHaveLength(1);
      });
    });

    it('exports and re-imports a project state exactly', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        await seedProject(store);
        await store.insertArtifact(artifact({ id: 'a1' }));
        const before = (await store.exportProjectState(P)) as ProjectState;
        await store.insertArtifact(artifact({ id: 'a2' }));
        await store.upsertRun({ ...before.runs[0]!, id: 'run-2' });
        await store.importProjectState(before);
        expect(await store.exportProjectState(P)).toEqual(before);
        expect(await store.exportProjectState('no/such')).toBeUndefined();
      });
    });

    it('appends audit events as one chain and filters them', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        const events = await store.appendAudit('project:acme/widgets', P, [
          { actor: 'alice', action: 'approval.recorded', subject: 'run-1', at: '2025-01-01T00:00:01.000Z', data: { permission: 'admin' } },
          { actor: 'gateway', action: 'gateway.veto', subject: 'task-1', at: '2025-01-02T00:00:00.000Z' },
        ]);
        expect(events.map((e) => e.seq)).toEqual([1, 2]);
        expect(events[1]?.prevHash).toBe(events[0]?.hash);
        expect((await store.listAudit({ actor: 'gateway' })).map((e) => e.seq)).toEqual([2]);
        expect((await store.listAudit({ projectId: P, since: '2025-01-01T12:00:00.000Z' })).map((e) => e.action)).toEqual(['gateway.veto']);
        expect((await store.listAudit({ actionPrefix: 'approval.' })).map((e) => e.subject)).toEqual(['run-1']);
        expect(await store.listAuditHeads(P)).toEqual([{ chain: 'project:acme/widgets', projectId: P, seq: 2, hash: events[1]?.hash }]);
      });
    });

    it('refuses sealed events that do not continue the stored chain, writing none of them', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        const [first] = await store.appendAudit('c', null, [{ actor: 'a', action: 'x', subject: 's', at: T0 }]);
        const forged = { ...first!, seq: 2, prevHash: '1'.repeat(64) };
        const error = await store.appendSealedAudit('c', null, [forged]).catch((e: unknown) => e);
        expect(isQfError(error, 'EVIDENCE_INVALID')).toBe(true);
        expect((error as Error).message).toMatch(/at seq 2/);
        expect((await store.listAudit({ chain: 'c' })).length).toBe(1);
      });
    });

    it('records a review once per head SHA, plan and reviewer, also under concurrent writes, and keeps every head', async () => {
      const connection = await harness.newConnection();
      const review = {
        projectId: P,
        pullNumber: 7,
        headSha: 'h1',
        planHash: 'p1',
        by: 'alice',
        verdict: 'approve' as const,
        permission: 'maintain',
        reason: '',
        commentId: '11',
        commentUrl: 'https://x/11',
        at: T0,
      };
      await withStore(connection, async (store) => {
        await seedProject(store);
        const first = await Promise.all([1, 2, 3, 4].map(() => store.recordPrReview(review)));
        expect(first.filter(Boolean)).toHaveLength(1);
        expect(await store.recordPrReview({ ...review, headSha: 'h2', at: '2025-01-02T00:00:00.000Z' })).toBe(true);
        expect(
          await store.recordPrReview({
            ...review,
            by: 'bob',
            verdict: 'reject',
            reason: 'no',
            commentId: null,
            commentUrl: null,
            at: '2025-01-03T00:00:00.000Z',
          }),
        ).toBe(true);
        expect(await store.recordPrReview({ ...review, pullNumber: 8, projectId: P, headSha: 'h9' })).toBe(true);
      });
      await withStore(connection, async (store) => {
        expect(await store.listPrReviews(P, 7)).toEqual([
          review,
          { ...review, headSha: 'h2', at: '2025-01-02T00:00:00.000Z' },
          { ...review, by: 'bob', verdict: 'reject', reason: 'no', commentId: null, commentUrl: null, at: '2025-01-03T00:00:00.000Z' },
        ]);
      });
    });

    it('keeps one hold per head SHA, replaced by unhold', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        await seedProject(store);
        const hold = { projectId: P, headSha: 'h1', pullNumber: 7, held: true, by: 'alice', reason: 'wait for the freeze', at: T0 };
        await store.savePrHold(hold);
        expect(await store.getPrHold(P, 'h1')).toEqual(hold);
        await store.savePrHold({ ...hold, held: false, by: 'bob', reason: '' });
        expect(await store.getPrHold(P, 'h1')).toEqual({ ...hold, held: false, by: 'bob', reason: '' });
        expect(await store.getPrHold(P, 'h2')).toBeUndefined();
      });
    });

    it('gives a claim to exactly one of many concurrent callers, and again only once released; deliveries likewise', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        const won = await Promise.all(Array.from({ length: 8 }, () => store.claim('rerun:acme/widgets:h1:p1', T0)));
        expect(won.filter(Boolean)).toHaveLength(1);
        expect(await store.claim('rerun:acme/widgets:h2:p1', T0)).toBe(true);
        await store.releaseClaim('rerun:acme/widgets:h1:p1');
        expect(await store.claim('rerun:acme/widgets:h1:p1', T0)).toBe(true);
        expect(await store.markDeliveryProcessed('d-1', 'issue_comment', T0)).toBe(true);
        await store.releaseDelivery('d-1');
        expect(await store.markDeliveryProcessed('d-1', 'issue_comment', T0)).toBe(true);
        expect(await store.markDeliveryProcessed('d-1', 'issue_comment', T0)).toBe(false);
        expect(await store.hasDelivery('d-1')).toBe(true);
        await store.releaseDelivery('d-1');
        expect(await store.hasDelivery('d-1')).toBe(false);
      });
    });

    it('pages by keyset: every record once, newest first, ties broken by id, filters kept', async () => {
      await withStore(await harness.newConnection(), async (store) => {
        await store.upsertProject({ id: P, createdAt: T0 });
        // 23 runs, three to a start time, so pages cut through runs that share one.
        const at = (i: number): string => new Date(Date.parse(T0) + Math.floor(i / 3) * 1000).toISOString();
        for (let i = 0; i < 23; i++)
          await store.upsertRun({
            id: `r${String(i).padStart(2, '0')}`,
            projectId: P,
            startedAt: at(i),
            finishedAt: null,
            mode: 'strict',
            verdict: i % 2 ? 'fail' : 'pass',
            headSha: null,
            data: {},
          });
        const all = async (query: Parameters<StorageBackend['listPage']>[0]): Promise<string[]> => {
          const ids: string[] = [];
          let after: Array<string | number> | undefined;
          for (;;) {
            const page = await store.listPage(query, { limit: 4, ...(after ? { after } : {}) });
            ids.push(
              ...(page.items as unknown as Array<Record<string, unknown>>).map((item) => ('id' in item ? String(item.id) : `${item.chain}#${item.seq}`)),
            );
            if (!page.next) return ids;
            after = page.next;
          }
        };
        const expected = Array.from({ length: 23 }, (_, i) => `r${String(i).padStart(2, '0')}`).reverse();
        expect(await all({ of: 'runs', projectId: P })).toEqual(expected);
        expect(await all({ of: 'runs', projectId: P, verdict: 'fail' })).toEqual(expected.filter((id) => Number(id.slice(1)) % 2 === 1));
        expect((await store.listPage({ of: 'runs', projectId: P }, { limit: 23 })).next).toBeNull();
        await store.appendAudit(
          'c1',
          P,
          Array.from({ length: 9 }, (_, i) => ({ actor: i % 2 ? 'x' : 'y', action: 'a', subject: 's', at: at(i) })),
        );
        await store.appendAudit('c0', null, [{ actor: 'x', action: 'a', subject: 's', at: T0 }]);
        expect(await all({ of: 'audit', actor: 'x' })).toEqual(['c0#1', 'c1#2', 'c1#4', 'c1#6', 'c1#8']);
        expect(await all({ of: 'audit', projectId: P, since: at(3), until: at(6) })).toEqual(['c1#4', 'c1#5', 'c1#6']);
      });
    });

    it('refuses a database whose schema is newer than this qf', async () => {
      const connection = await harness.newConnection();
      await withStore(connection, async () => undefined);
      await rawSql(connection, `UPDATE qf_meta SET value = '99' WHERE key = 'schema_version'`);
      const error = await openStore(connection).catch((e: unknown) => e);
      expect(isQfError(error, 'STORE_ERROR')).toBe(true);
      expect((error as Error).message).toContain(`schema version 99, newer than this qf knows (${LATEST_SCHEMA_VERSION})`);
    });
  });
}
