/**
 * Ingesting one evidence bundle whose pytest step ran N test cases, for each N of --cases: the bot
 * streams the artifact from the local GitHub fake to a temp file, extracts it entry by entry,
 * validates it as untrusted (schema, sizes, digests, chain, seal) and streams every test case into
 * the store in batches, SQLite and PostgreSQL. Wall time from the signed workflow_run delivery to
 * the handler's end, and the peak RSS of the process doing it: with streaming ingestion the peak
 * should not grow with N.
 * Each bundle is made first by the real Action (gate mode) running real pytest on a generated suite
 * of N parametrized cases (minutes for 100,000 on a loaded machine); --bundle-dir DIR keeps them as
 * DIR/bundle-N.zip and reuses those already there.
 * Each measured ingestion runs in a fresh child process (bench/bot-ingest-child.ts) so its peak RSS
 * is its own, not the Action's that made the bundle. RSS also measures how lazily V8 collects, so
 * each ingestion runs once more with V8's old space capped (--heap MB, default 48): that it finishes
 * at every size is what shows the memory it needs does not grow with the suite.
 * Run: npx tsx bench/bot-ingest.ts [--cases 10000,100000[,300000]] [--bundle-dir DIR] [--reps 2] [--heap 48] [sqlite|postgres|both]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../src/action/run.js';
import { readZip } from '../src/github/extract-zip.js';
import type { StoreConnection } from '../src/store/index.js';
import { FAST_TUNING, prepareRun, pullRequestPayload, seedPullRequest, startHarness, withRunnerEnv } from '../test/support/action-harness.js';
import { makeTestApp } from '../test/support/bot-harness.js';
import { startPostgres } from '../test/support/postgres.js';
import { BASE_POLICY, createFixtureRepo } from '../test/support/python-project.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const CASES = (option('cases') ?? '10000,100000').split(',').map(Number);
const REPS = Number(option('reps') ?? 2);
const BUNDLE_DIR = option('bundle-dir');
const HEAP_MB = Number(option('heap') ?? 48);
const which = args.find((a) => ['sqlite', 'postgres', 'both'].includes(a)) ?? 'both';
const BACKENDS = which === 'both' ? ['sqlite', 'postgres'] : [which];
const CHILD = fileURLToPath(new URL('./bot-ingest-child.ts', import.meta.url));
const LOAD_AT_START = loadavg();
const dir = mkdtempSync(join(tmpdir(), 'qf-bench-ingest-'));

async function makeBundle(cases: number): Promise<Buffer> {
  const { app } = makeTestApp();
  const harness = await startHarness({ app });
  const policy = BASE_POLICY.replace('timeout_seconds: 120', 'timeout_seconds: 3600').replace('version: 1', 'version: 1\nbudget: { total_seconds: 7200 }');
  const repo = await createFixtureRepo({
    '.github/qualityfoundry.yml': policy,
    'tests/test_many.py': `import pytest\n\n\n@pytest.mark.parametrize("i", range(${cases}))\ndef test_case(i):\n    assert i >= 0\n`,
  });
  try {
    seedPullRequest(harness.github, repo);
    harness.github.contents.set(`${repo.baseSha}:.github/qualityfoundry.yml`, policy);
    const prepared = await prepareRun(harness, { eventName: 'pull_request', payload: await pullRequestPayload(repo), workspace: repo.dir, runId: 901 });
    const started = performance.now();
    await withRunnerEnv(prepared.env, () => run({ tuning: FAST_TUNING }));
    process.stderr.write(`bundle made by the Action in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    const blob = harness.artifacts.artifacts.find((a) => a.runId === 901 && a.finalized)?.blob;
    if (!blob) throw new Error('the Action uploaded no evidence');
    return blob;
  } finally {
    await harness.close();
    rmSync(repo.dir, { recursive: true, force: true });
  }
}

const postgres = BACKENDS.includes('postgres') ? await startPostgres() : null;
const rows: string[] = [];
const bundles: string[] = [];
for (const cases of CASES) {
  const kept = BUNDLE_DIR ? join(BUNDLE_DIR, `bundle-${cases}.zip`) : undefined;
  const zip = kept && existsSync(kept) ? readFileSync(kept) : await makeBundle(cases);
  if (kept && !existsSync(kept)) {
    mkdirSync(BUNDLE_DIR!, { recursive: true });
    writeFileSync(kept, zip);
  }
  const zipFile = join(dir, `bundle-${cases}.zip`);
  writeFileSync(zipFile, zip);
  const entries = readZip(zip);
  const evidence = JSON.parse(entries.find((e) => e.name === 'evidence.json')!.data.toString('utf8'));
  const junit = entries.filter((e) => e.name.endsWith('.xml'));
  const testcases = junit.reduce((n, e) => n + (e.data.toString('utf8').match(/<testcase /g)?.length ?? 0), 0);
  const unpacked = entries.reduce((n, e) => n + e.data.length, 0);
  bundles.push(
    `${cases.toLocaleString('en')} cases: zip ${(zip.length / 1e6).toFixed(2)} MB, ${entries.length} files, ${(unpacked / 1e6).toFixed(1)} MB unpacked; ${testcases.toLocaleString('en')} <testcase> elements in ${junit.length} JUnit file(s); ${evidence.steps.length} step(s), ${evidence.audit.length} audit events`,
  );
  for (const backend of BACKENDS) {
    for (let rep = 0; rep <= REPS; rep++) {
      // The last run of each backend: the same ingestion with V8's old space capped at HEAP_MB.
      const capped = rep === REPS;
      if (capped && REPS === 0) continue;
      const connection: StoreConnection =
        backend === 'postgres' ? { databaseUrl: await postgres!.createDatabase() } : { dbPath: join(dir, `ingest-${cases}-${rep}.db`) };
      const result = await new Promise<string>((resolve) => {
        const child = spawn(
          process.execPath,
          [...(capped ? [`--max-old-space-size=${HEAP_MB}`] : []), '--import', 'tsx', CHILD, zipFile, JSON.stringify(connection), String(evidence.change.head)],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.once('exit', (code, signal) => resolve(code === 0 ? out.trim() : JSON.stringify({ failed: `exit ${code ?? signal}` })));
      });
      const r = JSON.parse(result) as { ms: number; status: string; maxRssMb: number; rssBeforeMb: number; tests: number; failed?: string };
      const heap = capped ? `${HEAP_MB} MB` : 'default';
      rows.push(
        r.failed
          ? `| ${cases.toLocaleString('en')} | ${backend} | ${heap} | ${capped ? '-' : rep + 1} | **failed (${r.failed})** | | | | |`
          : `| ${cases.toLocaleString('en')} | ${backend} | ${heap} | ${capped ? '-' : rep + 1} | ${r.status} | ${r.tests.toLocaleString('en')} | ${r.ms.toFixed(0)} | ${r.rssBeforeMb.toFixed(0)} | ${r.maxRssMb.toFixed(0)} |`,
      );
    }
  }
  rmSync(zipFile);
}
process.stdout.write(
  [
    `Ingesting one bundle, ${new Date().toISOString()}, ${cpus().length} cores, load ${LOAD_AT_START.map((l) => l.toFixed(1)).join(' ')} at start, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at end`,
    ...bundles,
    '',
    '| cases | backend | V8 old space | rep | result | test cases stored | delivery → recorded, ms | RSS before, MB | peak RSS, MB |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
await postgres?.stop();
rmSync(dir, { recursive: true, force: true });
