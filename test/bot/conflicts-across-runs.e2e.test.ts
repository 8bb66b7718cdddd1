import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { readZip } from '../../src/github/extract-zip.js';
import { verifyStoredChains } from '../../src/governance/index.js';
import type { StoreConnection } from '../../src/store/index.js';
import { type Harness, OWNER, REPO, resetHarness, seedPullRequest } from '../support/action-harness.js';
import { APP_SLUG, deliver, startTestBot, workflowRunPayload } from '../support/bot-harness.js';
import { type ConflictFixture, pullConversation, startConflictFixture } from '../support/conflict-fixture.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { BASE_POLICY, type FixtureRepo } from '../support/python-project.js';

/**
 * The conflicts the bot finds across runs beyond a re-run that disagrees, from bundles the real
 * Action produced: shards of a matrix (two shards of `unit`, merged by `mode: merge`) that report a
 * test differently or claim one slot with other tests, and a step whose declared dependency no run
 * of the head produced; and what each mode does with them (ADAPTIVE: the low-risk one resolved by
 * the bot, the other escalated).
 */
const PROJECT = `${OWNER}/${REPO}`;
const NAME = 'qualityfoundry-evidence';
const RUN_URL = `https://github.com/${PROJECT}/actions/runs`;
type Mode = 'strict' | 'adaptive' | 'playground';
const inMode = (policy: string, mode: Mode): string => policy.replace('mode: strict', `mode: ${mode}`);
/** `integration` builds on `unit`, which only runs on pull requests labelled `full`. */
const DEPENDENT_POLICY = BASE_POLICY.replace(
  `  - id: unit
    when: { changed: ["**/*.py"] }
    run: run_pytest
    with: { paths: [tests] }`,
  `  - id: unit
    when: { labels: [full] }
    run: run_pytest
    with: { paths: [tests] }
  - id: integration
    when: { changed: ["**/*.py"] }
    run: run_pytest
    with: { paths: [tests] }
    depends_on: [unit]`,
);
/** The base policy the bot reads for mentions: names approvers (a user and a team). */
const REVIEW_POLICY = BASE_POLICY.replace('count: 1', 'count: 1\n  approvers: { min_permission: maintain, users: [alice], teams: [qa-leads] }');
const MENTION = '@alice @Codertocat/qa-leads';

let fixture: ConflictFixture;
let harness: Harness;
let repo: FixtureRepo;
let postgres: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'qf-bot-across-'));
/** Merged evidence zips by `<run>.<attempt>`, and which shard ran test_flaky. */
const merged = new Map<string, Buffer>();
let flakyShard = 0;

const entry = (zip: Buffer, name: string): string =>
  readZip(zip)
    .find((candidate) => candidate.name === name)!
    .data.toString('utf8');

/** A matrix of two shards of `unit` as workflow run `runId`, then its merge job; returns the merged zip. */
async function matrix(runId: number, options: { policy: string; attempt?: number; shards?: number[]; timings?: string }): Promise<Buffer> {
  const shardZips: Buffer[] = [];
  for (const index of options.shards ?? [1, 2]) {
    const inputs: Record<string, string> = { 'shard-index': String(index), 'shard-total': '2', ...(options.timings ? { timings: options.timings } : {}) };
    shardZips[index] = await fixture.actionRun(runId, { policy: options.policy, attempt: options.attempt ?? 1, inputs });
  }
  if (!flakyShard) flakyShard = shardZips.findIndex((zip) => zip && entry(zip, 'reports/unit/selection.txt').includes('test_flaky'));
  return fixture.actionRun(runId, { policy: options.policy, attempt: options.attempt ?? 1, inputs: { mode: 'merge', 'shard-total': '2' } });
}

beforeAll(async () => {
  fixture = await startConflictFixture();
  ({ harness, repo } = fixture);
  const flake = (on: boolean) => (on ? writeFile(join(repo.dir, 'FLAKE'), 'x') : rm(join(repo.dir, 'FLAKE'), { force: true }));
  const adaptive = inMode(BASE_POLICY, 'adaptive');
  // Run 701: the shard that holds test_flaky fails (FLAKE), its job is re-run (attempt 2) and passes.
  await flake(true);
  merged.set('701.1', await matrix(701, { policy: adaptive }));
  await flake(false);
  merged.set('701.2', await matrix(701, { policy: adaptive, attempt: 2, shards: [flakyShard] }));
  // Run 702, another workflow run of the head: the same shard fails again.
  await flake(true);
  merged.set('702.1', await matrix(702, { policy: adaptive }));
  await flake(false);
  // Runs 703 and 704 (strict): all green, but 704 balances by a timing history, so its slots hold other tests.
  merged.set('703.1', await matrix(703, { policy: BASE_POLICY }));
  await writeFile(
    join(repo.dir, 'timings.json'),
    JSON.stringify({ 'tests/test_calc.py::test_add': 30, 'tests/test_calc.py::test_add_negative': 0.1, 'tests/test_flaky.py::test_flaky': 0.1 }),
  );
  merged.set('704.1', await matrix(704, { policy: BASE_POLICY, timings: 'timings.json' }));
  await rm(join(repo.dir, 'timings.json'));
  // Runs 705 (strict, 707 playground) without the label: integration ran, unit did not; run 706 with it.
  merged.set('705.1', await fixture.actionRun(705, { policy: DEPENDENT_POLICY }));
  merged.set('706.1', await fixture.actionRun(706, { policy: DEPENDENT_POLICY, labels: ['full'] }));
  merged.set('707.1', await fixture.actionRun(707, { policy: inMode(DEPENDENT_POLICY, 'playground') }));
  postgres = await startPostgres();
}, 600_000);
afterAll(async () => {
  await fixture?.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const backends: Array<[string, () => Promise<StoreConnection>]> = [
  ['SQLite', async () => ({ dbPath: join(dir, `bot-${++n}.db`) })],
  ['PostgreSQL', async () => ({ databaseUrl: await postgres.createDatabase() })],
];

describe.each(backends)('conflicts across runs (%s)', (_name, connect) => {
  let bot: RunningBot;
  beforeEach(async () => {
    resetHarness(harness);
    seedPullRequest(harness.github, repo);
    harness.github.contents.set(`${repo.baseSha}:.github/qualityfoundry.yml`, REVIEW_POLICY);
    harness.github.permissions.set('alice', 'maintain');
    bot = await startTestBot(harness.github, fixture.privateKey, await connect());
  });
  afterEach(async () => {
    await bot.close();
  });
  const { status, answers } = pullConversation(
    () => harness,
    () => bot,
  );

  /** Workflow run `run`'s attempt `attempt` completes: its merged (or single) evidence is there to ingest. */
  async function completes(run: number, attempt = 1): Promise<void> {
    if (!harness.github.workflowRuns.some((known) => known.id === run))
      harness.github.workflowRuns.push({ id: run, head_sha: repo.headSha, check_suite_id: 1000 + run });
    harness.artifacts.seed({ name: attempt > 1 ? `${NAME}-attempt-${attempt}` : NAME, runId: run, zip: merged.get(`${run}.${attempt}`)! });
    expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: run, headSha: repo.headSha, attempt }))).status).toBe(200);
  }
  const resolutionRequests = () => harness.github.requests.filter((r) => r.method === 'POST' && r.path === `/repos/${PROJECT}/check-runs`);
  const mentions = () =>
    harness.github.requests.filter(
      (r) => r.method === 'POST' && r.path === `/repos/${PROJECT}/issues/2/comments` && !String((r.body as { body?: string }).body).startsWith('<!--'),
    );

  it('ADAPTIVE: a shard job re-run that changed its mind is low-risk and resolved by the bot; another run whose shard disagrees is escalated', async () => {
    await completes(701);
    expect(await bot.store.listConflicts(PROJECT)).toEqual([]);
    await completes(701, 2);

    // PSMP: the same shard job declared the test again with another outcome, a low-risk re-declaration.
    const [auto] = await bot.store.listConflicts(PROJECT);
    const test = (await bot.store.getArtifact(auto!.artifactIds[0]!))!.type;
    expect(test).toMatch(/^test:.*test_flaky/);
    expect(auto).toMatchObject({
      kind: 'version_conflict',
      lowRisk: true,
      status: 'resolved',
      runId: `gh:${PROJECT}:701.2`,
      resolutions: [{ strategy: 'OVERRIDE', by: 'qualityfoundry-bot', reason: 'adaptive: re-declaration by the same producer', winner: auto!.artifactIds[1] }],
    });
    // Handed to the Action like a /qf resolve: one resolution check run on the head, by the bot.
    expect(resolutionRequests().map((r) => r.body)).toEqual([
      {
        name: 'qualityfoundry/resolution',
        head_sha: repo.headSha,
        external_id: `${auto!.id}:OVERRIDE`,
        status: 'completed',
        conclusion: 'success',
        output: {
          title: 'Conflict c1: override by @qualityfoundry-bot (adaptive, low risk)',
          summary: expect.stringContaining(
            "The policy's mode is ADAPTIVE and PSMP classifies conflict `c1` (version_conflict) as low-risk, so @qualityfoundry-bot resolved it without a human: OVERRIDE.",
          ),
        },
      },
    ]);
    const shard = `shard ${flakyShard} of 2`;
    expect(status()).toContain(
      `\`c1\` ✅ auto-resolved (override by @qualityfoundry-bot: adaptive: re-declaration by the same producer) — test \`${test.slice('test:'.length)}\` disagrees across shards: [run 1](${RUN_URL}/701) ${shard} (fail) vs [run 2](${RUN_URL}/701) ${shard} (pass)`,
    );
    expect(status()).toContain('**Conflicts: 0 unresolved**');
    expect(answers()).toEqual([]);
    const audit = await bot.store.listAudit({ chain: `project:${PROJECT}`, action: 'bot.conflict.auto_resolved' });
    expect(audit.map((e) => [e.actor, e.subject, e.data])).toEqual([
      [
        'qualityfoundry-bot',
        `gh:${PROJECT}:701.2`,
        {
          conflictId: auto!.id,
          shortId: 'c1',
          kind: 'version_conflict',
          strategy: 'OVERRIDE',
          reason: 'adaptive: re-declaration by the same producer',
          winner: auto!.artifactIds[1],
          headSha: repo.headSha,
          runId: 701,
          secondsToResolve: 0,
          checkRunId: harness.github.checkRuns.find((r) => r.name === 'qualityfoundry/resolution')!.id,
          externalId: `${auto!.id}:OVERRIDE`,
        },
      ],
    ]);

    // Another workflow run of the head: its shard fails the test again — two producers, never low-risk.
    await completes(702);
    const conflicts = await bot.store.listConflicts(PROJECT);
    expect(conflicts).toHaveLength(2);
    expect(conflicts[1]).toMatchObject({ kind: 'duplicate_producer', lowRisk: false, status: 'escalated', runId: `gh:${PROJECT}:702.1` });
    expect(conflicts[1]!.escalatedAt).not.toBeNull();
    expect(status()).toContain(
      `\`c2\` 🔺 escalated — test \`${test.slice('test:'.length)}\` disagrees across shards: [run 1](${RUN_URL}/701) ${shard} (pass) vs [run 2](${RUN_URL}/702) ${shard} (fail)`,
    );
    expect(status()).toContain('**Conflicts: 1 unresolved**');
    expect(mentions().map((r) => (r.body as { body: string }).body)).toEqual([
      expect.stringMatching(new RegExp(`^${MENTION}: conflict \`c2\` needs a decision — `)),
    ]);
    // Nothing more handed to the Action: the escalated one waits for a human.
    expect(resolutionRequests()).toHaveLength(1);
    // A redelivery of 701's second attempt changes nothing, and hands nothing twice.
    expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: 701, headSha: repo.headSha, attempt: 2 }))).status).toBe(200);
    expect(resolutionRequests()).toHaveLength(1);
    expect((await verifyStoredChains(bot.store)).ok).toBe(true);
  });

  it('STRICT: two shards claiming one slot with other selections are a conflict, open, announced, linking both runs', async () => {
    await completes(703);
    await completes(704);
    const conflicts = await bot.store.listConflicts(PROJECT);
    expect(conflicts.length).toBeGreaterThan(0);
    for (const conflict of conflicts)
      expect(conflict).toMatchObject({ kind: 'duplicate_producer', status: 'open', lowRisk: false, runId: `gh:${PROJECT}:704.1` });
    const types = await Promise.all(conflicts.map(async (c) => (await bot.store.getArtifact(c.artifactIds[0]!))!.type));
    expect(types.every((type) => /^shard:unit:[12]-of-2$/.test(type))).toBe(true);
    const [slot] = types[0]!.match(/[12]-of-2$/)!;
    const label = slot!.replace('-of-', ' of ');
    expect(status()).toContain(
      `\`c1\` ⛔ open — shard ${label} of step \`unit\` ran other tests in another run: [run 1](${RUN_URL}/703) shard ${label} (pass) vs [run 2](${RUN_URL}/704) shard ${label} (pass)`,
    );
    expect(answers()).toHaveLength(conflicts.length);
    expect(answers()[0]).toMatch(new RegExp(`^${MENTION}: conflict \`c1\` needs a decision`));
    expect(resolutionRequests()).toEqual([]);
  });

  it('STRICT: a step whose declared dependency no run of the head produced is a missing dependency, until a run produces it', async () => {
    await completes(705);
    const [missing] = await bot.store.listConflicts(PROJECT);
    expect(missing).toMatchObject({ kind: 'missing_dependency', status: 'open', lowRisk: false, details: { missing: 'step:unit', iteration: 1 } });
    expect((await bot.store.getArtifact(missing!.artifactIds[0]!))!).toMatchObject({ type: 'step:integration', dependsOn: ['step:unit'] });
    expect(status()).toContain(`\`c1\` ⛔ open — step \`integration\` depends on \`unit\`, which no run of this head produced: [run 1](${RUN_URL}/705) (pass)`);
    expect(answers()).toEqual([expect.stringMatching(new RegExp(`^${MENTION}: conflict \`c1\` needs a decision`))]);

    // The labelled run has unit: the dependency is there for this head now, and nothing new conflicts.
    await completes(706);
    expect(await bot.store.listConflicts(PROJECT)).toMatchObject([{ id: missing!.id, status: 'satisfied' }]);
    expect(status()).toContain('**Conflicts: 0 unresolved**');
    expect(status()).toContain('`c1` ✅ satisfied — step `integration` depends on `unit`, which a later run of this head produced');
    expect(answers()).toHaveLength(1);
    const actions = (await bot.store.listAudit({ chain: `project:${PROJECT}` })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['psmp.conflict', 'bot.conflict.escalated', 'psmp.closed']));
  });

  it('PLAYGROUND: a missing dependency is recorded, never announced', async () => {
    await completes(707);
    expect(await bot.store.listConflicts(PROJECT)).toMatchObject([{ kind: 'missing_dependency', status: 'open' }]);
    expect(answers()).toEqual([]);
    expect(status()).toBe('');
    expect(harness.github.writes().filter((w) => !w.path.endsWith('/access_tokens'))).toEqual([]);
  });
});

describe('an auto-resolution, end to end (SQLite)', () => {
  let bot: RunningBot;
  afterEach(async () => {
    await bot.close();
  });

  it("the Action's next run on the head accepts the bot's ADAPTIVE resolution like a reviewer's", async () => {
    resetHarness(harness);
    seedPullRequest(harness.github, repo);
    harness.github.contents.set(`${repo.baseSha}:.github/qualityfoundry.yml`, REVIEW_POLICY);
    bot = await startTestBot(harness.github, fixture.privateKey, { dbPath: join(dir, `loop-${++n}.db`) });
    harness.github.workflowRuns.push({ id: 701, head_sha: repo.headSha, check_suite_id: 1701 });
    harness.artifacts.seed({ name: NAME, runId: 701, zip: merged.get('701.1')! });
    harness.artifacts.seed({ name: `${NAME}-attempt-2`, runId: 701, zip: merged.get('701.2')! });
    for (const attempt of [1, 2]) await deliver(bot, 'workflow_run', workflowRunPayload({ id: 701, headSha: repo.headSha, attempt }));
    const [auto] = await bot.store.listConflicts(PROJECT);
    expect(auto).toMatchObject({ status: 'resolved', resolutions: [{ by: 'qualityfoundry-bot' }] });
    const checkRun = harness.github.checkRuns.find((r) => r.name === 'qualityfoundry/resolution')!;

    const zip = await fixture.actionRun(708, { inputs: { 'approval-app': APP_SLUG }, seed: false });
    const audit = JSON.parse(entry(zip, 'evidence.json')).audit as Array<{ action: string; data: unknown }>;
    expect(audit.filter((e) => e.action === 'conflict.resolution.accepted').map((e) => e.data)).toEqual([
      {
        conflictId: auto!.id,
        strategy: 'OVERRIDE',
        by: 'qualityfoundry-bot',
        reason: 'adaptive: re-declaration by the same producer',
        checkRunId: checkRun.id,
      },
    ]);
  });
});
