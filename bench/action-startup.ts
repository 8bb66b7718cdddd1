/**
 * Bundle size and cold start of the Action: from spawning `node dist/index.js` to its first API
 * request reaching a local fake of GitHub, next to a bare `node -e ""` (spawn to exit), same run.
 * Run: npx tsx bench/action-startup.ts [runs] [--unsplit]   (build first: node scripts/build-dist.mjs)
 * With --unsplit it also times the same Action built as one file (no lazily loaded chunks), in the
 * same interleaved rounds, to show whether the chunks pay for themselves.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareRun, pullRequestPayload, resetHarness, seedPullRequest, startHarness } from '../test/support/action-harness.js';
import { createFixtureRepo, PASSING_CHANGE } from '../test/support/python-project.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BUNDLE = `${ROOT}dist/index.js`;
const RUNS = Number(process.argv[2] ?? 15);
const UNSPLIT = process.argv.includes('--unsplit');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function bareNode(): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) =>
    spawn(process.execPath, ['-e', ''])
      .on('exit', () => resolve())
      .on('error', reject),
  );
  return performance.now() - started;
}

const harness = await startHarness();
const repo = await createFixtureRepo(PASSING_CHANGE);

/** The Action as one file, as scripts/build-dist.mjs builds it but without code splitting. */
async function buildUnsplit(): Promise<string> {
  const { build } = await import('esbuild');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'qf-unsplit-'));
  const outfile = path.join(dir, 'index.js');
  await build({
    entryPoints: [`${ROOT}src/action/index.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    logLevel: 'warning',
    external: ['*.node'],
    banner: { js: "import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);" },
  });
  return outfile;
}
const unsplitBundle = UNSPLIT ? await buildUnsplit() : undefined;
const unsplitSizeBytes = unsplitBundle ? (await stat(unsplitBundle)).size : 0;

async function actionToFirstRequest(bundle = BUNDLE): Promise<number> {
  resetHarness(harness);
  seedPullRequest(harness.github, repo);
  const prepared = await prepareRun(harness, { eventName: 'pull_request', payload: await pullRequestPayload(repo), workspace: repo.dir });
  const first = harness.github.firstRequest();
  const started = performance.now();
  const child = spawn(process.execPath, [bundle], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...prepared.env }, stdio: 'ignore' });
  const at = await first;
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  return at - started;
}

const bare: number[] = [];
const action: number[] = [];
const unsplit: number[] = [];
await bareNode();
await actionToFirstRequest(); // warm the file cache for both, as a runner's second step would be
if (unsplitBundle) await actionToFirstRequest(unsplitBundle);
for (let index = 0; index < RUNS; index += 1) {
  bare.push(await bareNode());
  action.push(await actionToFirstRequest());
  if (unsplitBundle) unsplit.push(await actionToFirstRequest(unsplitBundle));
}
await harness.close();
if (unsplitBundle) await rm(path.dirname(unsplitBundle), { recursive: true, force: true });

const size = (await stat(BUNDLE)).size;
const unsplitSize = unsplitBundle ? unsplitSizeBytes : undefined;
// What start-up parses: the entry plus the chunks it imports statically (transitively). The other
// chunks (container sandbox, artifact client) load only when a run needs them.
const chunkDir = `${ROOT}dist/`;
const eager = new Set<string>();
const queue = ['index.js'];
while (queue.length > 0) {
  const file = queue.pop()!;
  const text = await readFile(chunkDir + file, 'utf8');
  for (const match of text.matchAll(/from"\.\/(?:chunks\/)?([^"]+\.js)"/g)) {
    const target = file.startsWith('chunks/') || match[0].includes('chunks/') ? `chunks/${match[1]!}` : match[1]!;
    if (!eager.has(target)) {
      eager.add(target);
      queue.push(target);
    }
  }
}
const eagerBytes = (await Promise.all([...eager].map((name) => stat(chunkDir + name)))).reduce((sum, info) => sum + info.size, 0);
const lazy = (await readdir(`${chunkDir}chunks`)).filter((name) => !name.startsWith('cli-') && !eager.has(`chunks/${name}`));
const chunkBytes = (await Promise.all(lazy.map((name) => stat(`${chunkDir}chunks/${name}`)))).reduce((sum, info) => sum + info.size, 0);
const rows = [
  `| measure | median | min | max |`,
  `|---|---|---|---|`,
  `| bare \`node -e ""\` (spawn → exit) | ${median(bare).toFixed(1)} ms | ${Math.min(...bare).toFixed(1)} ms | ${Math.max(...bare).toFixed(1)} ms |`,
  `| \`node dist/index.js\` (spawn → first API request) | ${median(action).toFixed(1)} ms | ${Math.min(...action).toFixed(1)} ms | ${Math.max(...action).toFixed(1)} ms |`,
  `| difference of medians | ${(median(action) - median(bare)).toFixed(1)} ms | | |`,
  ...(unsplit.length > 0
    ? [
        `| the same Action as one file, no chunks (${((unsplitSize ?? 0) / 1024 / 1024).toFixed(2)} MiB) | ${median(unsplit).toFixed(1)} ms | ${Math.min(...unsplit).toFixed(1)} ms | ${Math.max(...unsplit).toFixed(1)} ms |`,
      ]
    : []),
];
const report = [
  '# Action start-up',
  '',
  `\`npx tsx bench/action-startup.ts ${RUNS}${UNSPLIT ? ' --unsplit' : ''}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; ${RUNS} runs each, interleaved, after one warm-up; load average ${os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')} at the end (the machine is shared).`,
  '',
  `Bundle (minified ESM): parsed at start ${((size + eagerBytes) / 1024 / 1024).toFixed(2)} MiB (entry \`dist/index.js\` ${(size / 1024).toFixed(0)} KiB + ${eager.size} shared chunks); ${lazy.length} chunks, ${(chunkBytes / 1024 / 1024).toFixed(2)} MiB, load only when a run needs them (container sandbox, artifact upload).`,
  '',
  ...rows,
  '',
].join('\n');
await writeFile(`${ROOT}bench/results/action.md`, report);
console.log(report);
