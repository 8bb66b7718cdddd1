/**
 * run_evals' own overhead per case: 1,000 cases with a `command` target (`cat`, which echoes the
 * case it reads on stdin) and cheap assertions (equals, contains, regex), against running the same
 * target the same 1,000 times in a plain loop through the same sandbox with the same stdin. The
 * difference, divided by the cases, is what the runner adds: reading and checking the suite, the
 * assertions, the bookkeeping and evals.json. A raw `child_process.spawn` loop (no sandbox) is timed
 * too, for what the sandbox itself costs. Rounds are interleaved so load drifts hit both alike.
 * A third figure isolates the runner's own work from process noise: the same run_evals with a
 * sandbox that answers at once (it echoes stdin, spawns nothing) — an in-process stand-in used
 * here only, never in tests.
 * Run: npx tsx bench/evals-overhead.ts [--cases 1000] [--reps 5]
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SubprocessSandbox } from '../src/sandbox/subprocess-sandbox.js';
import type { Sandbox, SandboxRequest, SandboxResult } from '../src/sandbox/types.js';
import { runEvalsTool } from '../src/tools/evals/run-evals.js';
import { caseForTarget } from '../src/tools/evals/run-target.js';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '1000' }, reps: { type: 'string', default: '5' } } });
const CASES = Number(values.cases);
const REPS = Number(values.reps);
const CAT = '/bin/cat';

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const work = await mkdtemp(path.join(os.tmpdir(), 'qf-bench-evals-'));
const repoDir = path.join(work, 'repo');
await mkdir(path.join(repoDir, 'evals'), { recursive: true });
const cases = Array.from({ length: CASES }, (_, i) => ({ id: `c${i}`, input: `question ${i}` }));
// One JSONL line per case: the output is the case itself, {"id", "input"}.
await writeFile(
  path.join(repoDir, 'evals/bench.jsonl'),
  `${cases
    .map((entry) =>
      JSON.stringify({
        ...entry,
        assert: [
          { type: 'equals', value: entry },
          { type: 'contains', value: entry.input },
          { type: 'regex', pattern: '^\\{"id":"c\\d+"' },
        ],
      }),
    )
    .join('\n')}\n`,
);
await writeFile(path.join(repoDir, 'evals/bench.yaml'), `name: bench\ntarget: { command: [${CAT}] }\ncases_file: bench.jsonl\n`);

const sandbox = new SubprocessSandbox();
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const outputDir = path.join(work, 'out');
await mkdir(outputDir, { recursive: true });

/** The target alone, through the same sandbox, with the same stdin and the same JSON parse of its output. */
async function plainLoop(): Promise<number> {
  const started = performance.now();
  for (const entry of cases) {
    const result = await sandbox.run({
      command: CAT,
      args: [],
      repoDir,
      outputDir,
      env,
      timeoutMs: 30_000,
      maxOutputBytes: 1_048_576,
      stdin: caseForTarget({ ...entry, assert: [] }),
    });
    if (result.exitCode !== 0) throw new Error(`cat exited ${result.exitCode}`);
    JSON.parse(result.stdout.text);
  }
  return performance.now() - started;
}

/** The target spawned directly, no sandbox: what the sandbox's isolation costs per case. */
async function rawSpawnLoop(): Promise<number> {
  const started = performance.now();
  for (const entry of cases) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(CAT, [], { env, stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', () => {
        JSON.parse(out);
        resolve();
      });
      child.stdin.end(caseForTarget({ ...entry, assert: [] }));
    });
  }
  return performance.now() - started;
}

/** Answers every request at once with its stdin as stdout: what is left is the runner's own work. */
const instant: Sandbox = {
  mode: 'subprocess',
  run: async (request: SandboxRequest): Promise<SandboxResult> => ({
    mode: 'subprocess',
    exitCode: 0,
    signal: null,
    timedOut: false,
    oomKilled: false,
    durationMs: 0,
    stdout: { text: request.stdin ?? '', droppedBytes: 0 },
    stderr: { text: '', droppedBytes: 0 },
  }),
};

async function runner(round: number | string, through: Sandbox = sandbox): Promise<number> {
  const started = performance.now();
  const run = await runEvalsTool.run(
    { suites: ['evals/bench.yaml'], base: false },
    { repoDir, stepDir: path.join(work, `step-${round}`), sandbox: through, env, timeoutMs: 3_600_000, maxOutputBytes: 1_048_576, commands: {} },
  );
  const elapsed = performance.now() - started;
  if (run.metrics['evals.passed'] !== CASES) throw new Error(`expected ${CASES} passed cases, got ${JSON.stringify(run.metrics)} (${run.reason})`);
  return elapsed;
}

const plain: number[] = [];
const ours: number[] = [];
const raw: number[] = [];
const loads: number[] = [];
const own: number[] = [];
try {
  await plainLoop(); // warm-up: isolation probe, page cache
  for (let round = 0; round < REPS; round++) {
    loads.push(os.loadavg()[0]!);
    // Alternate which goes first, so neither always runs on the warmer machine.
    if (round % 2 === 0) {
      plain.push(await plainLoop());
      ours.push(await runner(round));
    } else {
      ours.push(await runner(round));
      plain.push(await plainLoop());
    }
    raw.push(await rawSpawnLoop());
    own.push(await runner(`instant-${round}`, instant));
    const diff = (ours.at(-1)! - plain.at(-1)!) / CASES;
    console.error(
      `round ${round + 1}: plain ${plain.at(-1)!.toFixed(0)} ms, run_evals ${ours.at(-1)!.toFixed(0)} ms, overhead ${diff.toFixed(3)} ms/case, raw spawn ${raw.at(-1)!.toFixed(0)} ms`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const perCase = ours.map((value, i) => (value - plain[i]!) / CASES);
console.log(`| ${CASES} cases, command target \`cat\`, equals + contains + regex | median of ${REPS} interleaved rounds |`);
console.log('|---|---|');
console.log(`| target in a plain loop (same sandbox, same stdin) | ${median(plain).toFixed(0)} ms (${(median(plain) / CASES).toFixed(2)} ms/case) |`);
console.log(`| run_evals | ${median(ours).toFixed(0)} ms (${(median(ours) / CASES).toFixed(2)} ms/case) |`);
console.log(
  `| runner overhead per case (paired differences) | median ${median(perCase).toFixed(3)} ms, range ${Math.min(...perCase).toFixed(3)} … ${Math.max(...perCase).toFixed(3)} ms |`,
);
console.log(`| run_evals with a sandbox that answers at once (the runner's own work) | ${(median(own) / CASES).toFixed(3)} ms/case |`);
console.log(`| raw spawn loop, no sandbox (reference) | ${median(raw).toFixed(0)} ms (${(median(raw) / CASES).toFixed(2)} ms/case) |`);
console.log(`| load average (1 min) at each round, ${os.cpus().length} cores | ${loads.map((load) => load.toFixed(1)).join(', ')} |`);
