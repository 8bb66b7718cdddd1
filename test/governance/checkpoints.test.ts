import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-chain.js';
import { isQfError } from '../../src/errors.js';
import { PsmpEngine, createCheckpoint, listCheckpoints, restoreCheckpoint } from '../../src/governance/index.js';
import { openStore } from '../../src/store/index.js';
import { rawSql } from '../support/store-raw-sql.js';

const dir = mkdtempSync(join(tmpdir(), 'qf-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const P = 'acme/widgets';

function ticking(): () => Date {
  let t = Date.parse('2025-01-01T00:00:00Z');
  return () => new Date((t += 1000));
}

describe('checkpoints', () => {
  it('restores a project exactly as snapshotted, after later changes', async () => {
    const dbPath = join(dir, 'roundtrip.db');
    const store = await openStore({ dbPath });
    const clock = ticking();
    const psmp = new PsmpEngine(store, { mode: 'strict', clock });
    await psmp.declare({ projectId: P, runId: 'r1', type: 'pytest.report', producer: 'a', iteration: 1, digest: 'x' });
    await psmp.declare({ projectId: P, runId: 'r1', type: 'pytest.report', producer: 'b', iteration: 1, digest: 'y', dependsOn: ['missing'] });
    await store.recordApproval({ projectId: P, runId: 'r1', planHash: 'h', by: 'alice', permission: 'admin', at: clock().toISOString(), source: 'cli' });
    const snapshot = await store.exportProjectState(P);
    const trail = new AuditTrail(clock);
    const meta = await createCheckpoint(store, P, { label: 'before merge', clock, audit: (e) => trail.record(e) });
    expect(meta).toMatchObject({ projectId: P, label: 'before merge', artifactCount: 2 });

    await psmp.declare({ projectId: P, runId: 'r2', type: 'coverage', producer: 'c', iteration: 2, digest: 'z' });
    await psmp.resolve(P, (await store.listConflicts(P))[0]!.id, { strategy: 'OVERRIDE', by: 'bob', reason: 'ok' });
    expect(await store.exportProjectState(P)).not.toEqual(snapshot);

    await restoreCheckpoint(store, meta.id, { clock, audit: (e) => trail.record(e) });
    expect(await store.exportProjectState(P)).toEqual(snapshot);
    expect(trail.events.map((e) => e.action)).toEqual(['checkpoint.created', 'checkpoint.restored']);
    await store.close();
  });

  it('lists newest first and keeps only the last N', async () => {
    const store = await openStore({ dbPath: join(dir, 'retention.db') });
    const clock = ticking();
    await store.upsertProject({ id: P, createdAt: clock().toISOString() });
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createCheckpoint(store, P, { label: `c${i}`, keepLast: 3, clock }));
    expect((await listCheckpoints(store, P)).map((c) => c.label)).toEqual(['c4', 'c3', 'c2']);
    expect(made[4]?.size).toBeGreaterThan(0);
    await store.close();
  });

  it('refuses a damaged snapshot without touching the project', async () => {
    const dbPath = join(dir, 'damaged.db');
    const store = await openStore({ dbPath });
    await store.upsertProject({ id: P, createdAt: '2025-01-01T00:00:00.000Z' });
    const meta = await createCheckpoint(store, P);
    await store.close();
    await rawSql({ dbPath }, `UPDATE checkpoints SET snapshot = X'00010203'`);
    const reopened = await openStore({ dbPath });
    const before = await reopened.exportProjectState(P);
    const error = await restoreCheckpoint(reopened, meta.id).catch((e: unknown) => e);
    expect(isQfError(error, 'STORE_ERROR')).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`checkpoint '${meta.id}' in sqlite:.* is damaged`));
    expect(await reopened.exportProjectState(P)).toEqual(before);
    await expect(restoreCheckpoint(reopened, 'ckpt-nope')).rejects.toThrow(`checkpoint 'ckpt-nope' does not exist in sqlite:${dbPath}`);
    await reopened.close();
  });
});
