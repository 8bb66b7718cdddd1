/**
 * Governance benchmarks: durable audit appends per second (SQLite and PostgreSQL), PSMP conflict
 * detection over 10,000 artifacts, checkpoint create + restore for a 10,000-artifact project.
 * Run: npx tsx bench/governance.ts   (starts its own PostgreSQL like the tests do)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ComplianceAuditor, createCheckpoint, detectConflicts, restoreCheckpoint } from '../src/governance/index.js';
import { openStore, type ArtifactRecord, type ProjectState, type StoreConnection } from '../src/store/index.js';
import { startPostgres } from '../test/support/postgres.js';

const P = 'bench/project';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function artifacts(count: number): ArtifactRecord[] {
  // 1,000 types × 10 versions, each type built from the previous one (chains 1,000 deep). 1% come
  // from a second producer in the previous version's iteration (duplicates), 0.2% depend on a type
  // nobody declares (missing), and the last version of type-0 closes a 1,000-type cycle.
  return Array.from({ length: count }, (_, i) => {
    const k = i % 1000;
    const type = `type-${k}`;
    const version = Math.floor(i / 1000) + 1;
    const duplicate = i % 100 === 50 && version > 1;
    const dependsOn = k === 0 ? (i === count - 1000 ? ['type-999'] : []) : [`type-${k - 1}`];
    if (i % 500 === 7) dependsOn.push('ghost');
    return {
      id: `${P}:${type}@${version}`,
      projectId: P,
      runId: `run-${version}`,
      type,
      producer: duplicate ? `other-${i}` : `producer-${k}`,
      iteration: duplicate ? version - 1 : version,
      version,
      dependsOn,
      digest: `digest-${i}`,
      ref: null,
      createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, 0, i)).toISOString(),
    };
  });
}

async function auditRates(connection: StoreConnection): Promise<{ sequential: number; concurrent: number }> {
  const store = await openStore(connection);
  const auditor = new ComplianceAuditor(store, { chain: 'bench', projectId: P });
  const event = (i: number) => ({ actor: 'bench', action: 'bench.append', subject: `s${i}`, data: { i } });
  const sequentialCount = 500;
  let start = performance.now();
  for (let i = 0; i < sequentialCount; i++) await auditor.append(event(i));
  const sequential = sequentialCount / ((performance.now() - start) / 1000);
  const concurrentCount = 10_000;
  start = performance.now();
  await Promise.all(Array.from({ length: concurrentCount }, (_, i) => auditor.append(event(i))));
  const concurrent = concurrentCount / ((performance.now() - start) / 1000);
  const check = await auditor.verify('bench');
  if (!check.ok) throw new Error('bench chain does not verify');
  await store.close();
  return { sequential, concurrent };
}

async function checkpointCost(connection: StoreConnection): Promise<{ createMs: number; restoreMs: number; bytes: number }> {
  const store = await openStore(connection);
  const list = artifacts(10_000);
  const state: ProjectState = { project: { id: P, createdAt: '2025-01-01T00:00:00.000Z' }, runs: [], artifacts: list, conflicts: [], tasks: [], approvals: [] };
  await store.importProjectState(state);
  let start = performance.now();
  const meta = await createCheckpoint(store, P);
  const createMs = performance.now() - start;
  start = performance.now();
  await restoreCheckpoint(store, meta.id);
  const restoreMs = performance.now() - start;
  if ((await store.listArtifacts(P)).length !== 10_000) throw new Error('restore lost artifacts');
  await store.close();
  return { createMs, restoreMs, bytes: meta.size };
}

const dir = mkdtempSync(join(tmpdir(), 'qf-bench-'));
const pg = await startPostgres();
try {
  const lines: string[] = [];
  const sqliteAudit = await auditRates({ dbPath: join(dir, 'audit.db') });
  const pgAudit = await auditRates({ databaseUrl: await pg.createDatabase() });
  lines.push('| durable audit appends | SQLite (WAL, synchronous=FULL) | PostgreSQL (fsync on) |', '|---|---|---|');
  lines.push(`| one at a time, each awaited (500) | ${fmt(sqliteAudit.sequential)}/s | ${fmt(pgAudit.sequential)}/s |`);
  lines.push(`| 10,000 in flight (group commit) | ${fmt(sqliteAudit.concurrent)}/s | ${fmt(pgAudit.concurrent)}/s |`);

  const list = artifacts(10_000);
  const runs: number[] = [];
  let found = 0;
  for (let i = 0; i < 7; i++) {
    const start = performance.now();
    found = detectConflicts(list).length;
    runs.push(performance.now() - start);
  }
  lines.push(
    '',
    `PSMP conflict detection over 10,000 artifacts (1,000 types, dependency chains, ${found} conflicts found): median ${fmt(median(runs), 1)} ms of 7 runs.`,
  );

  const sqliteCkpt = await checkpointCost({ dbPath: join(dir, 'ckpt.db') });
  const pgCkpt = await checkpointCost({ databaseUrl: await pg.createDatabase() });
  lines.push('', '| checkpoint, 10,000 artifacts | SQLite | PostgreSQL |', '|---|---|---|');
  lines.push(`| create (export + gzip + store) | ${fmt(sqliteCkpt.createMs)} ms | ${fmt(pgCkpt.createMs)} ms |`);
  lines.push(`| restore (read + gunzip + replace) | ${fmt(sqliteCkpt.restoreMs)} ms | ${fmt(pgCkpt.restoreMs)} ms |`);
  lines.push(`| snapshot size (gzip) | ${fmt(sqliteCkpt.bytes / 1024, 1)} KiB | ${fmt(pgCkpt.bytes / 1024, 1)} KiB |`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
