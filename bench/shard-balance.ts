/**
 * How evenly shards split a real suite: a generated pytest suite of ≥ 1,000 tests with skewed
 * durations (log-normal sleeps, heavier in some files) is run once with real pytest; its JUnit
 * report is the timing history. For N = 2, 4, 8 the bench prints makespan / (total / N) — the
 * slowest shard's summed recorded durations over a perfect split — for qf's longest-first split by
 * timing history, next to naive splits by file count and by test count (contiguous chunks of the
 * sorted list), and qf's fallback without history (file size), all over the same durations. The
 * figure is arithmetic on recorded durations, so machine load does not distort it.
 * Run: npx tsx bench/shard-balance.ts [--tests 1200] [--files 40] [--junit REPORT.xml (reuse a run)]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { partitionTests, shardWeights, testFile } from '../src/tools/partition-tests.js';
import { readTimingHistory } from '../src/tools/timing-history.js';

const { values } = parseArgs({ options: { tests: { type: 'string', default: '1200' }, files: { type: 'string', default: '40' }, junit: { type: 'string' } } });
const TESTS = Number(values.tests);
const FILES = Number(values.files);

/** mulberry32: a small seeded PRNG, so the suite is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A suite whose test durations are log-normal (median 8 ms, a long tail) and whose files differ: every fifth file is ten times slower. */
async function writeSuite(dir: string): Promise<number> {
  const next = random(19);
  const perFile = Math.ceil(TESTS / FILES);
  let planned = 0;
  await mkdir(path.join(dir, 'tests'), { recursive: true });
  await writeFile(path.join(dir, 'pytest.ini'), '[pytest]\ntestpaths = tests\n');
  for (let file = 0; file < FILES; file++) {
    const heavy = file % 5 === 0 ? 10 : 1;
    const lines = ['import time', '', ''];
    for (let test = 0; test < perFile && file * perFile + test < TESTS; test++) {
      // Box–Muller: a standard normal from two uniforms, then exp(μ + σ·z).
      const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      const seconds = Math.min(1.5, heavy * Math.exp(Math.log(0.008) + 1.1 * z));
      planned += seconds;
      lines.push(`def test_${test}():`, `    time.sleep(${seconds.toFixed(4)})`, '', '');
    }
    await writeFile(path.join(dir, 'tests', `test_mod${String(file).padStart(3, '0')}.py`), lines.join('\n'));
  }
  return planned;
}

const sumOf = (ids: readonly string[], durations: ReadonlyMap<string, number>) => ids.reduce((sum, id) => sum + durations.get(id)!, 0);

function contiguous<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, index) => items.slice(index * size, (index + 1) * size));
}

const temp = await mkdtemp(path.join(os.tmpdir(), 'qf-shard-bench-'));
try {
  let report = values.junit;
  if (!report) {
    const planned = await writeSuite(temp);
    report = path.join(temp, 'junit.xml');
    const started = performance.now();
    execFileSync('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', `--junitxml=${report}`, '-o', 'junit_family=xunit1'], {
      cwd: temp,
      stdio: 'ignore',
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    console.log(
      `Ran ${TESTS} tests in ${FILES} files with real pytest: ${((performance.now() - started) / 1000).toFixed(1)} s wall, ${planned.toFixed(1)} s of planned sleeps.`,
    );
  }
  const history = await readTimingHistory(report);
  const durations = history.durations;
  const ids = [...durations.keys()].sort();
  const total = sumOf(ids, durations);
  const sorted = [...durations.values()].sort((a, b) => a - b);
  console.log(
    `Timing history: ${ids.length} tests, ${total.toFixed(2)} s recorded; median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(4)} s, p99 ${sorted[Math.floor(sorted.length * 0.99)]!.toFixed(3)} s, max ${sorted.at(-1)!.toFixed(3)} s.\n`,
  );
  const files = [...new Set(ids.map(testFile))].sort();
  const sizes = new Map<string, number>();
  for (const file of files) sizes.set(file, values.junit ? 1 : (await stat(path.join(temp, file))).size);

  console.log('| N | longest-first by history | by file count | by test count | qf without history (file size) |');
  console.log('|---|---|---|---|---|');
  for (const shards of [2, 4, 8]) {
    const ideal = total / shards;
    const ratio = (parts: readonly (readonly string[])[]) => (Math.max(...parts.map((part) => sumOf(part, durations))) / ideal).toFixed(3);
    const greedy = partitionTests(ids, (id) => durations.get(id)!, shards);
    const byFile = contiguous(files, shards).map((group) => ids.filter((id) => group.includes(testFile(id))));
    const byCount = contiguous(ids, shards);
    const fallback = shardWeights(ids, null, (file) => sizes.get(file) ?? 1);
    const bySize = partitionTests(ids, fallback.weightOf, shards);
    console.log(`| ${shards} | ${ratio(greedy)} | ${ratio(byFile)} | ${ratio(byCount)} | ${ratio(bySize)} |`);
  }
} finally {
  await rm(temp, { recursive: true, force: true });
}
