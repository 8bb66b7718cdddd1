import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ARTIFACT_BYTES } from '../../bot/ingest/download-evidence-artifact.js';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { run } from '../../src/action/run.js';
import { readZip } from '../../src/github/extract-zip.js';
import type { StoreConnection } from '../../src/store/index.js';
import {
  FAST_TUNING,
  type Harness,
  OWNER,
  prepareRun,
  pullRequestPayload,
  REPO,
  resetHarness,
  seedPullRequest,
  startHarness,
  withRunnerEnv,
} from '../support/action-harness.js';
import { deliver, makeTestApp, startTestBot, workflowRunPayload } from '../support/bot-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { forgeAndReseal } from '../support/forge-evidence.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createFixtureRepo, type FixtureRepo } from '../support/python-project.js';
import { writeZip, type ZipWriterEntry } from '../support/zip-writer.js';

const PROJECT = `${OWNER}/${REPO}`;
const NAME = 'qualityfoundry-evidence';
const RUN = `gh:${PROJECT}:301.1`;
/** Enough cases that the report spans several read chunks and several batches of rows. */
const CASES = 2_500;
const SUITE = {
  'tests/test_many.py': [
    'import pytest',
    '',
    '',
    `@pytest.mark.parametrize("i", range(${CASES}))`,
    'def test_case(i):',
    '    assert i >= 0',
    '',
    '',
    'def test_broken():',
    '    assert 1 + 1 == 3, "arithmetic"',
    '',
    '',
    '@pytest.mark.skip(reason="not today")',
    'def test_skipped():',
    '    pass',
    '',
  ].join('\n'),
};

let harness: Harness;
let privateKey: string;
let repo: FixtureRepo;
let bundle: Buffer;
let postgres: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'qf-bot-ingest-stream-'));

beforeAll(async () => {
  denyNetwork();
  const made = makeTestApp();
  privateKey = made.privateKey;
  harness = await startHarness({ app: made.app });
  repo = await createFixtureRepo(SUITE);
  seedPullRequest(harness.github, repo);
  const prepared = await prepareRun(harness, { eventName: 'pull_request', payload: await pullRequestPayload(repo), workspace: repo.dir, runId: 101 });
  await withRunnerEnv(prepared.env, () => run({ tuning: FAST_TUNING }));
  bundle = harness.artifacts.artifacts.find((candidate) => candidate.runId === 101 && candidate.finalized)!.blob!;
  postgres = await startPostgres();
}, 180_000);
afterAll(async () => {
  await harness?.close();
  await postgres?.stop();
  await rm(repo.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

const junitOf = (zip: Buffer) => readZip(zip).find((entry) => entry.name.endsWith('.xml'))!;

/** The bundle's files under a fresh folder, edited and re-sealed by `edit`, zipped again. */
async function resealed(edit: (folder: string) => Promise<void>): Promise<Buffer> {
  const folder = mkdtempSync(join(dir, 'bundle-'));
  for (const entry of readZip(bundle)) {
    await mkdir(dirname(join(folder, entry.name)), { recursive: true });
    await writeFile(join(folder, entry.name), entry.data);
  }
  await edit(folder);
  await forgeAndReseal(folder, () => undefined);
  const entries: ZipWriterEntry[] = [];
  for (const name of (await readdir(folder, { recursive: true })).map(String).sort()) {
    if ((await stat(join(folder, name))).isFile()) entries.push({ name, data: await readFile(join(folder, name)), deflate: true });
  }
  return writeZip(entries);
}

let n = 0;
const backends: Array<[string, () => Promise<StoreConnection>]> = [
  ['SQLite', async () => ({ dbPath: join(dir, `bot-${++n}.db`) })],
  ['PostgreSQL', async () => ({ databaseUrl: await postgres.createDatabase() })],
];

describe.each(backends)('streamed ingestion (%s)', (_name, connect) => {
  let bot: RunningBot;
  beforeEach(async () => {
    resetHarness(harness);
    harness.github.workflowRuns.push({ id: 301, head_sha: repo.headSha, check_suite_id: 1301 });
    bot = await startTestBot(harness.github, privateKey, await connect());
  });
  afterEach(async () => {
    await bot.close();
  });

  const deliverRun = async (): Promise<void> => {
    expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: 301, headSha: repo.headSha }))).status).toBe(200);
  };
  /** Nothing of the run but its rejection: no steps, no test cases, no run chain. */
  const expectRejectedOnly = async (reason: RegExp): Promise<void> => {
    const runs = await bot.store.listRuns(PROJECT);
    expect(runs.map((r) => r.verdict)).toEqual(['rejected']);
    expect((runs[0]!.data.rejected as string[]).join('\n')).toMatch(reason);
    expect(await bot.store.listTestResults({ projectId: PROJECT })).toEqual([]);
    expect(await bot.store.listArtifacts(PROJECT)).toEqual([]);
    expect(await bot.store.listAudit({ chain: `run:${RUN}` })).toEqual([]);
    expect((await bot.store.listAudit({ chain: `project:${PROJECT}` })).map((e) => e.action)).toEqual(['bot.evidence.rejected']);
  };

  it('stores exactly the test cases of the JUnit report, in order, with their outcomes and messages', async () => {
    harness.artifacts.seed({ name: NAME, runId: 301, zip: bundle });
    await deliverRun();
    const [stored] = await bot.store.listRuns(PROJECT);
    expect(stored).toMatchObject({ id: RUN, verdict: 'fail' });
    expect(stored!.data.testReportProblems).toBeUndefined();
    const rows = await bot.store.listTestResults({ projectId: PROJECT, runId: RUN });
    const report = junitOf(bundle).data.toString('utf8');
    expect(rows).toHaveLength(report.match(/<testcase /g)!.length);
    expect(rows.filter((row) => row.testId.startsWith('tests/test_many.py::test_case['))).toHaveLength(CASES);
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, i) => i));
    expect(new Set(rows.map((row) => row.testId)).size).toBe(rows.length);
    const byId = new Map(rows.map((row) => [row.testId, row]));
    expect(byId.get('tests/test_many.py::test_case[1234]')).toMatchObject({ outcome: 'passed', message: null, stepId: 'unit', headSha: repo.headSha });
    expect(byId.get(`tests/test_many.py::test_case[${CASES - 1}]`)).toMatchObject({ outcome: 'passed' });
    expect(byId.get('tests/test_many.py::test_broken')).toMatchObject({ outcome: 'failed', message: expect.stringContaining('arithmetic') });
    expect(byId.get('tests/test_many.py::test_skipped')).toMatchObject({ outcome: 'skipped', message: expect.stringContaining('not today') });
    expect(rows.filter((row) => row.outcome !== 'passed').map((row) => row.testId)).toEqual([
      'tests/test_many.py::test_broken',
      'tests/test_many.py::test_skipped',
    ]);
  });

  it('a report that breaks off after batches were written has every row of it taken back, and the run says why', async () => {
    const truncated = await resealed(async (folder) => {
      const name = junitOf(bundle).name;
      const text = await readFile(join(folder, name), 'utf8');
      // Cut at 80%: more than one chunk and batch of rows were parsed and written before the break.
      await writeFile(join(folder, name), text.slice(0, Math.floor(text.length * 0.8)));
    });
    harness.artifacts.seed({ name: NAME, runId: 301, zip: truncated });
    await deliverRun();
    const [stored] = await bot.store.listRuns(PROJECT);
    expect(stored).toMatchObject({ id: RUN, verdict: 'fail' });
    expect(stored!.data.testReportProblems).toEqual([
      expect.stringMatching(/^step unit: reports\/.+\.xml: .*truncated or not valid XML.*counted \d{4} test cases/),
    ]);
    expect(await bot.store.listTestResults({ projectId: PROJECT })).toEqual([]);
  });

  it('a download larger than the listing said is cut off at the limit while streaming and rejected', async () => {
    // A real zip of 64 MiB and a bit (stored, so it does not shrink); the listing claims 1 KiB.
    const huge = writeZip([...readZip(bundle), { name: 'reports/padding.bin', data: Buffer.alloc(MAX_ARTIFACT_BYTES) }]);
    harness.artifacts.seed({ name: NAME, runId: 301, zip: huge }).size = 1024;
    await deliverRun();
    await expectRejectedOnly(new RegExp(`the download passed ${MAX_ARTIFACT_BYTES} bytes`));
  });

  it('a zip bomb (a JUnit report declared as 1 KiB that inflates to 256 MiB) stops at its declared size', async () => {
    const entries = readZip(bundle).filter((entry) => !entry.name.endsWith('.xml'));
    const bomb: ZipWriterEntry = { name: junitOf(bundle).name, data: Buffer.alloc(256 * 1024 * 1024, ' '), deflate: true, declaredSize: 1024 };
    const zip = writeZip([...entries, bomb]);
    expect(zip.length).toBeLessThan(MAX_ARTIFACT_BYTES / 64);
    harness.artifacts.seed({ name: NAME, runId: 301, zip });
    await deliverRun();
    await expectRejectedOnly(/junit\.xml: expands past the 1024 bytes the directory says/);
  });

  it('a zip other than the one GitHub lists the digest of is rejected', async () => {
    harness.artifacts.seed({ name: NAME, runId: 301, zip: bundle }).digest = `sha256:${'0'.repeat(64)}`;
    await deliverRun();
    await expectRejectedOnly(/downloaded with sha256 [0-9a-f]{64}, GitHub lists 0{64}/);
  });
});
