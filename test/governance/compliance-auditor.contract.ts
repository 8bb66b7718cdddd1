import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-chain.js';
import { ComplianceAuditor, runChain, verifyStoredChain } from '../../src/governance/index.js';
import type { StoreConnection } from '../../src/store/index.js';
import { rawSql } from '../support/store-raw-sql.js';
import { withStore, type BackendHarness } from '../store/storage-backend.contract.js';

const CHILD = fileURLToPath(new URL('../support/audit-append-child.ts', import.meta.url));
const CHAIN = 'project:acme/widgets';

function spawnAppender(connection: StoreConnection, label: string, count: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(connection), CHAIN, label, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: Array<{ seq: number; hash: string; subject: string }> = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const [word, seq, hash, subject] = line.split(' ');
    if (word === 'ack') acks.push({ seq: Number(seq), hash: hash ?? '', subject: subject ?? '' });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, acks, exited, stderr: () => stderr };
}

async function seedChain(connection: StoreConnection, count: number): Promise<void> {
  await withStore(connection, async (store) => {
    const auditor = new ComplianceAuditor(store, { chain: CHAIN, projectId: 'acme/widgets', clock: () => new Date('2025-01-01T00:00:00Z') });
    await Promise.all(Array.from({ length: count }, (_, i) => auditor.append({ actor: 'qf', action: 'test', subject: `s${i + 1}`, data: { i: i + 1 } })));
  });
}

async function verify(connection: StoreConnection) {
  return withStore(connection, (store) => new ComplianceAuditor(store, { chain: CHAIN, projectId: null }).verify());
}

/** ComplianceAuditor on a real backend: chaining, tamper evidence, crash safety, concurrent writers. */
export function complianceAuditorContract(harness: BackendHarness): void {
  describe('ComplianceAuditor on this backend', () => {
    it('batches concurrent appends into one verifiable chain', async () => {
      const connection = await harness.newConnection();
      await seedChain(connection, 120);
      await withStore(connection, async (store) => {
        const events = await store.listAudit({ chain: CHAIN });
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
        expect(new Set(events.map((e) => e.subject)).size).toBe(120);
      });
      expect(await verify(connection)).toEqual({ ok: true, chains: [{ chain: CHAIN, ok: true, count: 120 }] });
    });

    it('mirrors a run trail with the very hashes evidence.json carries', async () => {
      const connection = await harness.newConnection();
      await withStore(connection, async (store) => {
        const trail = new AuditTrail(() => new Date('2025-01-01T00:00:00Z'));
        trail.record({ actor: 'orchestrator', action: 'transition', subject: 'run-9', data: { to: 'plan' } });
        const mirror = new ComplianceAuditor(store, { chain: CHAIN, projectId: 'acme/widgets' }).mirror(trail, runChain('run-9'));
        trail.record({ actor: 'orchestrator', action: 'transition', subject: 'run-9', data: { to: 'execute' } });
        trail.record({ actor: 'orchestrator', action: 'gate.decided', subject: 'run-9', data: { verdict: 'pass' } });
        await mirror.flush();
        const stored = await store.listAudit({ chain: runChain('run-9') });
        expect(stored.map(({ chain: _chain, ...event }) => event)).toEqual(trail.events);
      });
      expect((await verify(connection)).ok).toBe(true);
    });

    const tampers: Array<[string, string, number, RegExp]> = [
      ['modified', `UPDATE audit_events SET data = '{"i":99}' WHERE seq = 4`, 4, /hash does not match the content of seq 4/],
      ['deleted', `DELETE FROM audit_events WHERE seq = 4`, 4, /expected seq 4, found 5/],
      ['deleted at the end', `DELETE FROM audit_events WHERE seq = 6`, 6, /events were deleted/],
      [
        'reordered',
        `UPDATE audit_events SET seq = -3 WHERE seq = 3; UPDATE audit_events SET seq = 3 WHERE seq = 4; UPDATE audit_events SET seq = 4 WHERE seq = -3`,
        3,
        /prevHash does not match the hash of seq 2/,
      ],
      [
        'inserted',
        `UPDATE audit_events SET seq = seq + 100 WHERE seq >= 4; UPDATE audit_events SET seq = seq - 99 WHERE seq >= 104;
         INSERT INTO audit_events (chain, seq, at, actor, action, subject, data, prev_hash, hash)
         SELECT chain, 4, at, 'mallory', action, subject, data, hash, hash FROM audit_events WHERE seq = 3`,
        4,
        /seq 4/,
      ],
      [
        'inserted past the head',
        `INSERT INTO audit_events (chain, seq, at, actor, action, subject, data, prev_hash, hash)
         SELECT chain, 7, at, 'mallory', action, subject, data, hash, hash FROM audit_events WHERE seq = 6`,
        7,
        /seq 7 is past the chain head \(seq 6\): an event was inserted at the end/,
      ],
    ];
    for (const [what, sql, seq, reason] of tampers) {
      it(`names seq ${seq} when an event is ${what} directly in the database`, async () => {
        const connection = await harness.newConnection();
        await seedChain(connection, 6);
        expect((await verify(connection)).ok).toBe(true);
        await rawSql(connection, sql);
        const result = await verify(connection);
        expect(result.ok).toBe(false);
        expect(result.firstBroken).toMatchObject({ chain: CHAIN, seq });
        expect(result.firstBroken?.reason).toMatch(reason);
      });
    }

    it('verifies up to the head it was given: events appended meanwhile (the head moved over them) are no break', async () => {
      const connection = await harness.newConnection();
      await seedChain(connection, 6);
      await withStore(connection, async (store) => {
        const [head] = await store.listAuditHeads();
        const auditor = new ComplianceAuditor(store, { chain: CHAIN, projectId: 'acme/widgets' });
        for (let i = 0; i < 3; i++) await auditor.append({ actor: 'qf', action: 'test', subject: `late${i}`, data: {} });
        expect(await verifyStoredChain(store, head!)).toEqual({ chain: CHAIN, ok: true, count: 6 });
        // An older head whose hash is not the stored event's at that seq: still caught.
        expect(await verifyStoredChain(store, { ...head!, hash: 'f'.repeat(64) })).toMatchObject({ ok: false, brokenSeq: 6 });
      });
    });

    it('loses no acknowledged event when the writer is killed with SIGKILL mid-stream', async () => {
      const connection = await harness.newConnection();
      await withStore(connection, async () => undefined);
      const writer = spawnAppender(connection, 'k', 0);
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (writer.acks.length >= 150) {
            clearInterval(timer);
            writer.child.kill('SIGKILL');
            resolve();
          }
        }, 5);
        writer.exited.then(({ code }) => reject(new Error(`appender exited early (${code}): ${writer.stderr()}`)), reject);
      });
      expect((await writer.exited).signal).toBe('SIGKILL');
      const acked = [...writer.acks];
      await withStore(connection, async (store) => {
        const stored = new Map((await store.listAudit({ chain: CHAIN })).map((e) => [e.seq, e]));
        for (const ack of acked) {
          expect(stored.get(ack.seq)?.hash).toBe(ack.hash);
          expect(stored.get(ack.seq)?.subject).toBe(ack.subject);
        }
        expect(stored.size).toBeGreaterThanOrEqual(acked.length);
      });
      expect((await verify(connection)).ok).toBe(true);
    });

    it('forms one gap-free chain from several processes appending at once', async () => {
      const connection = await harness.newConnection();
      await withStore(connection, async () => undefined);
      const writers = ['p1', 'p2', 'p3', 'p4'].map((label) => spawnAppender(connection, label, 40));
      const exits = await Promise.all(writers.map((w) => w.exited));
      expect(
        exits.map((e) => e.code),
        writers.map((w) => w.stderr()).join('\n'),
      ).toEqual([0, 0, 0, 0]);
      await withStore(connection, async (store) => {
        const events = await store.listAudit({ chain: CHAIN });
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
        expect(new Set(events.map((e) => e.subject)).size).toBe(160);
      });
      expect(await verify(connection)).toEqual({ ok: true, chains: [{ chain: CHAIN, ok: true, count: 160 }] });
    });
  });
}
