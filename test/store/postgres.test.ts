import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQfError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { complianceAuditorContract } from '../governance/compliance-auditor.contract.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { branchHistoryContract } from './branch-history.contract.js';
import { dashboardReadsContract } from './dashboard-reads.contract.js';
import { storageBackendContract } from './storage-backend.contract.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

const harness = { newConnection: async () => ({ databaseUrl: await server.createDatabase() }) };

describe('PostgreSQL backend (a real server started from initdb/pg_ctl)', () => {
  storageBackendContract(harness);
  complianceAuditorContract(harness);
  dashboardReadsContract(harness);
  branchHistoryContract(harness);

  it('reports an unreachable server as STORE_ERROR naming it, without the password', async () => {
    const error = await openStore({ databaseUrl: `postgres://qf:s3cret@127.0.0.1:${server.port + 1}/nowhere` }).catch((e: unknown) => e);
    expect(isQfError(error, 'STORE_ERROR')).toBe(true);
    expect((error as Error).message).toContain(`cannot reach PostgreSQL at postgres://qf@127.0.0.1:${server.port + 1}/nowhere`);
    expect((error as Error).message).not.toContain('s3cret');
  });
});
