/**
 * Bundle size and cold start of the Action: from spawning `node dist/index.js` to its first API
 * request reaching a local fake of GitHub, next to a bare `node -e ""` (spawn to exit), same run.
 * Run: npx tsx bench/action-startup.ts [runs]   (build first: node scripts/build-dist.mjs)
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { prepareRun, pullRequestPayload, resetHarness, seedPullRequest, startHarness } from '../test/support/action-harness.js';
import { createFixtureRepo, PASSING_CHANGE } from '../test/support/python-project.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BUNDLE = `${ROOT}dist/index.js`;
const RUNS = Number(process.argv[2] ?? 15);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function bareNode(): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => spawn(process.execPath, ['-e', '']).on('exit', () => resolve()).on('error', reject));
  return performance.now() - started;
}

const harness = await startHarness();
const repo = await createFixtureRepo(PASSING_CHANGE);

async function actionToFirstRequest(): Promise<number> {
  resetHarness(harness);
  seedPullRequest(harness.github, repo);
  const prepared = await prepareRun(harness, { eventName: 'pull_request', payload: await pullRequestPayload(repo), workspace: repo.dir });
  const first = harness.github.firstRequest();
  const started = performance.now();
  const child = spawn(process.execPath, [BUNDLE], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...prepared.env }, stdio: 'ignore' });
  const at = await first;
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  return at - started;
}

const bare: number[] = [];
const action: number[] = [];
await bareNode();
await actionToFirstRequest(); // warm the file cache for both, as a runner's second step would be
for (let index = 0; index < RUNS; index += 1) {
  bare.push(await bareNode());
  action.push(await actionToFirstRequest());
}
await harness.close();

const size = (await stat(BUNDLE)).size;
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
];
const report = [
  '# Action start-up',
  '',
  `\`npx tsx bench/action-startup.ts ${RUNS}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ${RUNS} runs each, interleaved, after one warm-up.`,
  '',
  `Bundle (minified ESM): parsed at start ${((size + eagerBytes) / 1024 / 1024).toFixed(2)} MiB (entry \`dist/index.js\` ${(size / 1024).toFixed(0)} KiB + ${eager.size} shared chunks); ${lazy.length} chunks, ${(chunkBytes / 1024 / 1024).toFixed(2)} MiB, load only when a run needs them (container sandbox, artifact upload).`,
  '',
  ...rows,
  '',
].join('\n');
await writeFile(`${ROOT}bench/results/action.md`, report);
console.log(report);
