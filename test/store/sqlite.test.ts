import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isQfError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { complianceAuditorContract } from '../governance/compliance-auditor.contract.js';
import { branchHistoryContract } from './branch-history.contract.js';
import { dashboardReadsContract } from './dashboard-reads.contract.js';
import { storageBackendContract } from './storage-backend.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'qf-sqlite-'));
let n = 0;
const harness = { newConnection: async () => ({ dbPath: join(dir, `db-${++n}`, 'qf.db') }) };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite backend', () => {
  storageBackendContract(harness);
  complianceAuditorContract(harness);
  dashboardReadsContract(harness);
  branchHistoryContract(harness);

  it('reports a file that is not a database as STORE_ERROR naming the file', async () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, 'this is not a database, just some text that is long enough to look like a header'.repeat(100));
    const error = await openStore({ dbPath: path }).catch((e: unknown) => e);
    expect(isQfError(error, 'STORE_ERROR')).toBe(true);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/not a SQLite database or is damaged/);
  });

  it('works in memory for a throwaway store', async () => {
    const store = await openStore({ dbPath: ':memory:' });
    await store.upsertProject({ id: 'p', createdAt: '2025-01-01T00:00:00.000Z' });
    expect(await store.getProject('p')).toBeDefined();
    await store.close();
  });
});
