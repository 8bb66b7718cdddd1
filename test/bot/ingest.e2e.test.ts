import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { readZip } from '../../src/github/extract-zip.js';
import { verifyStoredChains } from '../../src/governance/index.js';
import type { StoreConnection } from '../../src/store/index.js';
import { type Harness, OWNER, PR_NUMBER, REPO, resetHarness, seedPullRequest } from '../support/action-harness.js';
import { APP_SLUG, checkRunPayload, deliver, startTestBot, workflowRunPayload } from '../support/bot-harness.js';
import { type ConflictFixture, pullConversation, startConflictFixture } from '../support/conflict-fixture.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import type { FixtureRepo } from '../support/python-project.js';
import { writeZip } from '../support/zip-writer.js';

const PROJECT = `${OWNER}/${REPO}`;
const NAME = 'qualityfoundry-evidence';

let fixture: ConflictFixture;
let harness: Harness;
let repo: FixtureRepo;
let passingZip: Buffer;
let failingZip: Buffer;
let postgres: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'qf-bot-ingest-'));

beforeAll(async () => {
  fixture = await startConflictFixture();
  ({ harness, repo } = fixture);
  passingZip = await fixture.actionRun(101);
  await writeFile(join(repo.dir, 'FLAKE'), 'x');
  failingZip = await fixture.actionRun(102);
  await rm(join(repo.dir, 'FLAKE'));
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await fixture?.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function tamper(zip: Buffer, edit: (evidence: Record<string, any>) => void): Buffer {
  const entries = readZip(zip);
  const file = entries.find((entry) => entry.name === 'evidence.json')!;
  const evidence = JSON.parse(file.data.toString('utf8'));
  edit(evidence);
  file.data = Buffer.from(JSON.stringify(evidence, null, 2));
  return writeZip(entries);
}

let n = 0;
const backends: Array<[string, () => Promise<StoreConnection>]> = [
  ['SQLite', async () => ({ dbPath: join(dir, `bot-${++n}.db`) })],
  ['PostgreSQL', async () => ({ databaseUrl: await postgres.createDatabase() })],
];

describe.each(backends)('evidence ingestion (%s)', (_name, connect) => {
  let bot: RunningBot;
  beforeEach(async () => {
    resetHarness(harness);
    harness.github.workflowRuns.push({ id: 201, head_sha: repo.headSha, check_suite_id: 1201 }, { id: 202, head_sha: repo.headSha, check_suite_id: 1202 });
    bot = await startTestBot(harness.github, fixture.privateKey, await connect());
  });
  afterEach(async () => {
    await bot.close();
  });

  it('workflow_run.completed: the run, its steps as PSMP artifacts, its audit trail and a checkpoint; a redelivery changes nothing', async () => {
    harness.artifacts.seed({ name: NAME, runId: 201, zip: passingZip });
    expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: repo.headSha }))).status).toBe(200);
    const reads = harness.github.requests.filter((r) => r.path.includes('/actions/')).map((r) => `${r.method} ${r.path}`);
    expect(reads).toEqual([
      `GET /repos/${PROJECT}/actions/runs/201/artifacts`,
      expect.stringMatching(new RegExp(`^GET /repos/${PROJECT}/actions/artifacts/\\d+/zip$`)),
    ]);
    expect(harness.github.writes().filter((w) => !w.path.endsWith('/access_tokens'))).toEqual([]);

    const { store } = bot;
    const runs = await store.listRuns(PROJECT);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: `gh:${PROJECT}:201.1`, headSha: repo.headSha, verdict: 'pass', mode: 'strict' });
    expect(runs[0]!.data).toMatchObject({ iteration: 1, source: { runId: 201, attempt: 1 }, steps: [{ id: 'unit', status: 'passed' }] });
    const artifacts = await store.listArtifacts(PROJECT);
    expect(artifacts.map((a) => [a.type, a.producer, a.iteration])).toEqual([['step:unit', 'workflow-run:201', 1]]);
    const evidence = JSON.parse(
      readZip(passingZip)
        .find((e) => e.name === 'evidence.json')!
        .data.toString('utf8'),
    );
    const runTrail = await store.listAudit({ chain: `run:gh:${PROJECT}:201.1` });
    expect(runTrail.map((e) => e.hash)).toEqual(evidence.audit.map((e: { hash: string }) => e.hash));
    const projectTrail = await store.listAudit({ chain: `project:${PROJECT}` });
    expect(projectTrail.map((e) => e.action)).toEqual(['bot.evidence.ingested', 'psmp.declared', 'checkpoint.created']);
    expect(await store.listCheckpoints(PROJECT)).toHaveLength(1);
    expect((await verifyStoredChains(store)).ok).toBe(true);

    // The same run again (a redelivery under a new id, and the gate's check_run for it): nothing doubled.
    expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: repo.headSha }))).status).toBe(200);
    expect(
      (
        await deliver(
          bot,
          'check_run',
          checkRunPayload({ id: 3001, name: 'qualityfoundry/gate', headSha: repo.headSha, detailsUrl: `https://github.com/${PROJECT}/actions/runs/201` }),
        )
      ).status,
    ).toBe(200);
    expect(await store.listRuns(PROJECT)).toHaveLength(1);
    expect(await store.listArtifacts(PROJECT)).toHaveLength(1);
    expect(await store.listAudit({ chain: `project:${PROJECT}` })).toHaveLength(3);
    expect(await store.listCheckpoints(PROJECT)).toHaveLength(1);
  });

  it('a second run on the same head SHA that disagrees is a conflict across runs (STRICT: open, blocking)', async () => {
    harness.artifacts.seed({ name: NAME, runId: 201, zip: passingZip });
    harness.artifacts.seed({ name: NAME, runId: 202, zip: failingZip });
    await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: repo.headSha }));
    // The gate's check run of run 202 leads the bot to the same ingestion.
    await deliver(
      bot,
      'check_run',
      checkRunPayload({ id: 3002, name: 'qualityfoundry/gate', headSha: repo.headSha, detailsUrl: `https://github.com/${PROJECT}/actions/runs/202` }),
    );
    const runs = await bot.store.listRuns(PROJECT);
    expect(runs.map((r) => [r.id, r.verdict, r.data.iteration])).toEqual(
      expect.arrayContaining([
        [`gh:${PROJECT}:201.1`, 'pass', 1],
        [`gh:${PROJECT}:202.1`, 'fail', 1],
      ]),
    );
    const conflicts = await bot.store.listConflicts(PROJECT);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ kind: 'duplicate_producer', status: 'open', lowRisk: false, runId: `gh:${PROJECT}:202.1` });
    expect(conflicts[0]!.artifactIds).toHaveLength(2);
    const actions = (await bot.store.listAudit({ chain: `project:${PROJECT}` })).map((e) => e.action);
    expect(actions).toContain('psmp.conflict');
    expect((await verifyStoredChains(bot.store)).ok).toBe(true);
  });

  it("a re-run (attempt 2 of the same run) is ingested from its own artifact, not attempt 1's, and a disagreement is a (low-risk) conflict", async () => {
    harness.artifacts.seed({ name: NAME, runId: 201, zip: passingZip });
    harness.artifacts.seed({ name: `${NAME}-attempt-2`, runId: 201, zip: failingZip });
    await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: repo.headSha }));
    await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: repo.headSha, attempt: 2, conclusion: 'failure' }));
    const runs = await bot.store.listRuns(PROJECT);
    expect(runs.map((r) => [r.id, r.verdict])).toEqual(
      expect.arrayContaining([
        [`gh:${PROJECT}:201.1`, 'pass'],
        [`gh:${PROJECT}:201.2`, 'fail'],
      ]),
    );
    const listed = harness.github.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/actions/runs/201/artifacts'));
    expect(listed.map((r) => r.query.name)).toEqual([NAME, `${NAME}-attempt-2`]);
    // The same job declaring again: PSMP's re-declaration, low-risk; STRICT still leaves it open.
    expect(await bot.store.listConflicts(PROJECT)).toMatchObject([
      { kind: 'version_conflict', lowRisk: true, status: 'open', runId: `gh:${PROJECT}:201.2`, details: { reason: 'redeclared' } },
    ]);
  });

  it('a tampered bundle is recorded as rejected with the reason, and nothing of it is believed', async () => {
    harness.artifacts.seed({ name: NAME, runId: 201, zip: tamper(passingZip, (e) => void (e.gate.verdict = 'fail')) });
    expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: repo.headSha }))).status).toBe(200);
    const runs = await bot.store.listRuns(PROJECT);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ verdict: 'rejected' });
    expect(String((runs[0]!.data.rejected as string[])[0])).toMatch(/seal|hash|digest/i);
    expect(await bot.store.listArtifacts(PROJECT)).toEqual([]);
    expect(await bot.store.listAudit({ chain: `run:gh:${PROJECT}:201.1` })).toEqual([]);
    const events = await bot.store.listAudit({ chain: `project:${PROJECT}` });
    expect(events.map((e) => e.action)).toEqual(['bot.evidence.rejected']);
    expect(events[0]!.data.problems).toEqual(runs[0]!.data.rejected);
  });

  it('a bundle forged for another commit, and a zip that escapes its folder, are rejected', async () => {
    harness.artifacts.seed({ name: NAME, runId: 201, zip: passingZip });
    harness.github.workflowRuns.push({ id: 203, head_sha: 'f'.repeat(40), check_suite_id: 1203 });
    await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: 'f'.repeat(40) }));
    const entries = readZip(passingZip);
    harness.artifacts.seed({ name: NAME, runId: 202, zip: writeZip([...entries, { name: '../escape.txt', data: Buffer.from('pwned') }]) });
    await deliver(bot, 'workflow_run', workflowRunPayload({ id: 202, headSha: repo.headSha }));
    const runs = await bot.store.listRuns(PROJECT);
    expect(runs.map((r) => r.verdict)).toEqual(['rejected', 'rejected']);
    const problems = runs.flatMap((r) => r.data.rejected as string[]).join('\n');
    expect(problems).toContain(`the workflow run was for ${'f'.repeat(40)}`);
    expect(problems).toContain('would land outside the folder');
    expect(await bot.store.listArtifacts(PROJECT)).toEqual([]);
  });

  it('a workflow run without the evidence artifact records nothing', async () => {
    expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: repo.headSha }))).status).toBe(200);
    expect(await bot.store.listRuns(PROJECT)).toEqual([]);
  });
});

describe('the conflict loop, end to end (SQLite)', () => {
  let bot: RunningBot;
  beforeEach(async () => {
    resetHarness(harness);
    seedPullRequest(harness.github, repo);
    harness.github.workflowRuns.push({ id: 201, head_sha: repo.headSha, check_suite_id: 1201 }, { id: 202, head_sha: repo.headSha, check_suite_id: 1202 });
    harness.github.permissions.set('alice', 'maintain');
    harness.github.permissions.set('bob', 'read');
    harness.artifacts.seed({ name: NAME, runId: 201, zip: passingZip });
    harness.artifacts.seed({ name: NAME, runId: 202, zip: failingZip });
    bot = await startTestBot(harness.github, fixture.privateKey, { dbPath: join(dir, `loop-${++n}.db`) });
  });
  afterEach(async () => {
    await bot.close();
  });

  const { status, answers, comment } = pullConversation(
    () => harness,
    () => bot,
  );

  it("two runs disagree → escalated in the status comment → /qf resolve c1 override → the Action's next run accepts it from the bot only", async () => {
    await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: repo.headSha }));
    expect(status()).toBe('');
    await deliver(bot, 'workflow_run', workflowRunPayload({ id: 202, headSha: repo.headSha }));
    expect(status()).toContain('**Conflicts: 1 unresolved**');
    expect(status()).toContain(
      '`c1` ⛔ open — step `unit` disagrees across runs: [run 1](https://github.com/Codertocat/Hello-World/actions/runs/201) (pass) vs [run 2](https://github.com/Codertocat/Hello-World/actions/runs/202) (fail)',
    );
    expect(status()).toContain('`/qf resolve c1 override`');
    expect(answers()).toHaveLength(1);
    expect(answers()[0]).toContain('conflict `c1` needs a decision');
    // A redelivery of the second run announces nothing again.
    await deliver(bot, 'workflow_run', workflowRunPayload({ id: 202, headSha: repo.headSha }));
    expect(answers()).toHaveLength(1);

    // Bad input, each answered and audited: an unknown id, a non-approver, a bad strategy.
    await comment('alice', '/qf resolve c9 override');
    expect(answers().at(-1)).toContain('unknown conflict id `c9`');
    await comment('bob', '/qf resolve c1 override');
    expect(answers().at(-1)).toContain('@bob has permission `read`');
    await comment('alice', '/qf resolve c1 maybe');
    expect(answers().at(-1)).toContain('unknown strategy `maybe`');
    const refused = await bot.store.listAudit({ chain: `project:${PROJECT}`, action: 'bot.command.refused' });
    expect(refused.map((e) => e.actor)).toEqual(['alice', 'bob', 'alice']);
    expect(harness.github.checkRuns.filter((r) => r.name === 'qualityfoundry/resolution')).toEqual([]);

    await comment('alice', '/qf resolve c1 override the failing run saw a stray FLAKE file');
    const [conflict] = await bot.store.listConflicts(PROJECT);
    expect(conflict).toMatchObject({
      status: 'resolved',
      resolutions: [{ strategy: 'OVERRIDE', by: 'alice', reason: 'the failing run saw a stray FLAKE file' }],
    });
    const resolution = harness.github.checkRuns.filter((r) => r.name === 'qualityfoundry/resolution');
    expect(resolution).toHaveLength(1);
    expect(resolution[0]).toMatchObject({ head_sha: repo.headSha, external_id: `${conflict!.id}:OVERRIDE`, conclusion: 'success', app: { slug: APP_SLUG } });
    const resolved = await bot.store.listAudit({ chain: `project:${PROJECT}`, action: 'bot.conflict.resolved' });
    expect(resolved[0]!.data).toMatchObject({ shortId: 'c1', strategy: 'OVERRIDE', permission: 'maintain', reason: 'the failing run saw a stray FLAKE file' });
    expect(typeof resolved[0]!.data.secondsToResolve).toBe('number');
    expect(status()).toContain('**Conflicts: 0 unresolved**');
    expect(status()).toContain('`c1` ✅ resolved (override by @alice: the failing run saw a stray FLAKE file)');
    // Resolving it twice is refused.
    await comment('alice', '/qf resolve c1 retry');
    expect(answers().at(-1)).toContain('conflict `c1` is already resolved');

    // A forged resolution from another app, then the Action's next run on the head.
    harness.github.seedCheckRun({
      name: 'qualityfoundry/resolution',
      head_sha: repo.headSha,
      app: { slug: 'evil-app', id: 666 },
      external_id: `${conflict!.id}:MERGE`,
      output: { title: 'Conflict c1: merge by @mallory', summary: 'Reason: mine', text: null, annotations_count: 0 },
    });
    await fixture.actionRun(301, { inputs: { 'approval-app': APP_SLUG }, seed: false });
    const next = harness.artifacts.artifacts.find((a) => a.runId === 301)!;
    const evidence = JSON.parse(
      readZip(next.blob!)
        .find((e) => e.name === 'evidence.json')!
        .data.toString('utf8'),
    );
    const accepted = evidence.audit.filter((e: { action: string }) => e.action === 'conflict.resolution.accepted');
    expect(accepted.map((e: { data: unknown }) => e.data)).toEqual([
      { conflictId: conflict!.id, strategy: 'OVERRIDE', by: 'alice', reason: 'the failing run saw a stray FLAKE file', checkRunId: resolution[0]!.id },
    ]);
    const ignored = evidence.audit
      .filter((e: { action: string }) => e.action === 'conflict.resolution.ignored')
      .map((e: { data: { note: string } }) => e.data.note);
    expect(ignored).toEqual([expect.stringContaining('created by app "evil-app", only app "qualityfoundry-bot" may resolve')]);
  });

  it('/qf report: write access only, dates validated, Markdown inline and JSON as a digest with the API link', async () => {
    await deliver(bot, 'workflow_run', workflowRunPayload({ id: 201, headSha: repo.headSha }));
    await comment('bob', '/qf report');
    expect(answers().at(-1)).toContain('a report needs `write` or higher');
    await comment('alice', '/qf report since:2026-02-30');
    expect(answers().at(-1)).toContain('since:2026-02-30 is not a date; expected since:YYYY-MM-DD');
    await comment('alice', '/qf report');
    const md = answers().at(-1)!;
    expect(md).toContain(`# Compliance report: ${PROJECT}`);
    expect(md).toContain('## Bot decisions');
    expect(md).toContain('bot.evidence.ingested');
    expect(md).toContain(`## This pull request (${PROJECT}#${PR_NUMBER})`);
    expect(md).toContain('bot.command.refused');
    await comment('alice', '/qf report json since:2020-01-01 until:2099-12-31');
    const json = answers().at(-1)!;
    expect(json).toContain('as JSON');
    expect(json).toContain(
      `/api/v1/projects/Codertocat/Hello-World/reports/compliance?format=json&since=2020-01-01T00%3A00%3A00.000Z&until=2100-01-01T00%3A00%3A00.000Z&pull=${PR_NUMBER}`,
    );
    const audited = await bot.store.listAudit({ chain: `project:${PROJECT}`, action: 'bot.report.sent' });
    expect(audited.map((e) => e.data.format)).toEqual(['md', 'json']);
    const refused = await bot.store.listAudit({ chain: `project:${PROJECT}`, action: 'bot.command.refused' });
    expect(refused.map((e) => e.actor)).toEqual(['bob', 'alice']);
  });
});
