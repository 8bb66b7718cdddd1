import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-chain.js';
import { main } from '../../src/cli/main.js';
import { auditCommand } from '../../src/cli/commands/audit.js';
import { checkpointCommand } from '../../src/cli/commands/checkpoint.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import { ComplianceAuditor, PsmpEngine, SecureGateway, projectChain, runChain } from '../../src/governance/index.js';
import { GatewaySchema } from '../../src/policy/schema.js';
import { openStore, type StoreConnection } from '../../src/store/index.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { rawSql } from '../support/store-raw-sql.js';

const dir = mkdtempSync(join(tmpdir(), 'qf-cli-'));
const REPO = 'acme/widgets';
let pgServer: TestPostgres;
beforeAll(async () => {
  pgServer = await startPostgres();
});
afterAll(async () => {
  await pgServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const COMMAND_NAMES = new Map<typeof auditCommand, string>([
  [auditCommand, 'audit'],
  [reportCommand, 'report'],
  [checkpointCommand, 'checkpoint'],
]);

/** Runs the command through main(), which formats what it throws: the way `qf` runs it. */
async function run(command: typeof auditCommand, argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([COMMAND_NAMES.get(command)!, ...argv], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {}, cwd: process.cwd() });
  return { code, stdout, stderr };
}

/** A store holding one of everything a compliance report covers, written through the real modules. */
async function seed(connection: StoreConnection): Promise<void> {
  const store = await openStore(connection);
  let t = Date.parse('2025-03-01T10:00:00Z');
  const clock = () => new Date((t += 60_000));
  const auditor = new ComplianceAuditor(store, { chain: projectChain(REPO), projectId: REPO, clock });
  const audit = (e: Parameters<ComplianceAuditor['append']>[0]) => auditor.append(e);
  const psmp = new PsmpEngine(store, { mode: 'adaptive', audit, clock });
  await psmp.declare({ projectId: REPO, runId: 'run-1', type: 'pytest.report', producer: 'shard-1', iteration: 1, digest: 'a' });
  const { conflicts } = await psmp.declare({ projectId: REPO, runId: 'run-1', type: 'pytest.report', producer: 'shard-2', iteration: 1, digest: 'b' });
  await psmp.resolve(REPO, conflicts[0]!.id, { strategy: 'OVERRIDE', by: 'alice', reason: 'shard-2 was flaky', winner: `${REPO}:pytest.report@1` });
  await store.recordApproval({
    projectId: REPO,
    runId: 'run-1',
    planHash: 'f'.repeat(64),
    by: 'bob',
    permission: 'maintain',
    at: clock().toISOString(),
    source: 'check-run',
  });
  const policy = GatewaySchema.parse({
    classify: [{ when: { changed: ['secrets/**'] }, level: 'CRITICAL' }],
    providers: [{ name: 'cloud', kind: 'cloud', base_url: 'http://127.0.0.1:9/v1', model: 'm' }],
  });
  await new SecureGateway({ policy, audit, clock }).enforce({ id: 'task-7', changedFiles: ['secrets/a'], provider: 'cloud' });
  const trail = new AuditTrail(clock);
  const mirror = auditor.mirror(trail, runChain('run-1'));
  trail.record({ actor: 'orchestrator', action: 'gate.decided', subject: 'run-1', data: { verdict: 'pass' } });
  await mirror.flush();
  await store.close();
}

describe('qf audit / report / checkpoint', () => {
  const dbPath = join(dir, 'qf.db');
  beforeAll(() => seed({ dbPath }));

  it('verifies the audit chains, then names a tampered seq with exit code 2', async () => {
    const ok = await run(auditCommand, ['verify', '--db', dbPath]);
    expect(ok).toEqual({ code: 0, stderr: '', stdout: `ok      project:${REPO} (5 events)\nok      run:run-1 (1 events)\n` });

    const copy = join(dir, 'tampered.db');
    await rawSql({ dbPath }, `VACUUM INTO '${copy}'`);
    await rawSql({ dbPath: copy }, `UPDATE audit_events SET actor = 'mallory' WHERE chain = 'project:${REPO}' AND seq = 5`);
    const broken = await run(auditCommand, ['verify', '--db', copy]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toBe(`qf: audit chain 'project:${REPO}' in sqlite:${copy} is broken at seq 5: hash does not match the content of seq 5\n`);
  });

  it('lists audit events by filter', async () => {
    const vetoes = await run(auditCommand, ['list', '--db', dbPath, '--action', 'gateway.veto']);
    expect(
      vetoes.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).subject),
    ).toEqual(['task-7']);
  });

  it('writes the compliance report as JSON, Markdown and CSV', async () => {
    const base = ['--db', dbPath, '--repo', REPO, '--since', '2025-03-01', '--until', '2025-03-02'];
    const json = JSON.parse((await run(reportCommand, [...base, '--format', 'json'])).stdout);
    expect(json.integrity.ok).toBe(true);
    expect(json.approvals).toEqual([
      { at: '2025-03-01T10:04:00.000Z', by: 'bob', permission: 'maintain', planHash: 'f'.repeat(64), runId: 'run-1', source: 'check-run' },
    ]);
    expect(json.vetoes).toMatchObject([{ subject: 'task-7', code: 'PROVIDER_NOT_ALLOWED' }]);
    expect(json.gateDecisions).toEqual([{ at: '2025-03-01T10:06:00.000Z', subject: 'run-1', verdict: 'pass' }]);
    expect(json.overrides).toMatchObject([{ by: 'alice', reason: 'shard-2 was flaky', winner: `${REPO}:pytest.report@1` }]);
    expect(json.escalations).toMatchObject([
      { escalatedAt: '2025-03-01T10:02:00.000Z', resolvedAt: '2025-03-01T10:03:00.000Z', resolvedBy: 'alice', resolution: 'OVERRIDE', durationSeconds: 60 },
    ]);

    const md = (await run(reportCommand, [...base, '--format', 'md'])).stdout;
    expect(md).toContain(`# Compliance report: ${REPO}`);
    expect(md).toContain('| 2025-03-01T10:04:00.000Z | bob | maintain | ffffffffffff | run-1 | check-run |');

    const csv = (await run(reportCommand, [...base, '--format', 'csv'])).stdout.split('\r\n');
    expect(csv[0]).toBe('section,at,who,subject,kind,detail,duration_seconds');
    expect(csv).toContain('gate,2025-03-01T10:06:00.000Z,,run-1,pass,,');
    expect(csv.filter((l) => l.startsWith('escalation,'))).toEqual([
      expect.stringMatching(/^escalation,2025-03-01T10:02:00.000Z,alice,conflict-\w+,OVERRIDE,2025-03-01T10:03:00.000Z,60$/),
    ]);
  });

  it('creates, lists and restores checkpoints', async () => {
    const created = await run(checkpointCommand, ['create', '--db', dbPath, '--repo', REPO, '--label', 'nightly', '--keep-last', '2']);
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.split(' ')[1] as string;
    const list = JSON.parse((await run(checkpointCommand, ['list', '--db', dbPath, '--repo', REPO, '--json'])).stdout);
    expect(list).toMatchObject([{ id, label: 'nightly', artifactCount: 2 }]);
    const store = await openStore({ dbPath });
    const before = await store.exportProjectState(REPO);
    await store.upsertRun({
      id: 'run-2',
      projectId: REPO,
      startedAt: '2025-03-02T00:00:00.000Z',
      finishedAt: null,
      mode: 'strict',
      verdict: null,
      headSha: null,
      data: {},
    });
    await store.close();
    expect((await run(checkpointCommand, ['restore', id, '--db', dbPath])).code).toBe(0);
    const after = await openStore({ dbPath });
    expect(await after.exportProjectState(REPO)).toEqual(before);
    await after.close();
  });

  it('rejects bad input with exit code 2 and a message saying what was expected', async () => {
    const cases: Array<[typeof auditCommand, string[], RegExp]> = [
      [reportCommand, ['--db', dbPath, '--since', '2025-01-01', '--format', 'md'], /--repo is ''; expected OWNER\/NAME/],
      [reportCommand, ['--db', dbPath, '--repo', REPO, '--since', 'yesterday'], /--since is 'yesterday'; expected a date like 2025-01-31/],
      [reportCommand, ['--db', dbPath, '--repo', REPO, '--since', '2025-01-01', '--format', 'pdf'], /expected json, md or csv/],
      [auditCommand, ['verify', '--db', join(dir, 'nope.db')], /no database at .*nope\.db/],
      [auditCommand, ['verify', '--db', dbPath, '--database-url', 'postgres://x/y'], /both --db and --database-url/],
      [checkpointCommand, ['restore', 'ckpt-missing', '--db', dbPath], /checkpoint 'ckpt-missing' does not exist/],
      [
        auditCommand,
        ['verify', '--database-url', `postgres://qf@127.0.0.1:${pgServer.port + 2}/none`],
        /cannot reach PostgreSQL at postgres:\/\/qf@127\.0\.0\.1/,
      ],
    ];
    for (const [command, argv, message] of cases) {
      const result = await run(command, argv);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });

  it('works the same against PostgreSQL with --database-url', async () => {
    const databaseUrl = await pgServer.createDatabase();
    await seed({ databaseUrl });
    expect(await run(auditCommand, ['verify', '--database-url', databaseUrl])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`ok      project:${REPO} (5 events)`),
    });
    const md = await run(reportCommand, ['--database-url', databaseUrl, '--repo', REPO, '--since', '2025-03-01', '--until', '2025-03-02', '--format', 'md']);
    expect(md.stdout).toContain('PROVIDER_NOT_ALLOWED');
  });
});
