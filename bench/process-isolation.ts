/**
 * What process isolation costs the subprocess sandbox: the one-time detection, and one step of
 * `/bin/true` without isolation and in a user+PID namespace, interleaved so drift in the machine's
 * load hits both alike. Prints medians.
 *
 *   npx tsx bench/process-isolation.ts [--reps N]
 */
import { execa } from 'execa';
import { detectProcessIsolation } from '../src/sandbox/process-isolation.js';
import { SubprocessSandbox } from '../src/sandbox/subprocess-sandbox.js';
import type { SandboxRequest } from '../src/sandbox/types.js';

const argv = process.argv.slice(2);
const repsFlag = argv.indexOf('--reps');
const REPS = repsFlag >= 0 ? Number(argv[repsFlag + 1]) : 30;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

await execa('/bin/true'); // execa's first spawn pays for loading; neither variant should
const detection: number[] = [];
for (let i = 0; i < REPS; i++) detection.push(await timed(() => detectProcessIsolation({ only: 'user+pid namespace' })));

const variants = {
  none: new SubprocessSandbox({ isolation: detectProcessIsolation({ only: 'none' }) }),
  'user+pid namespace': new SubprocessSandbox({ isolation: detectProcessIsolation({ only: 'user+pid namespace' }) }),
};
const request: SandboxRequest = {
  command: '/bin/true',
  args: [],
  repoDir: '/tmp',
  outputDir: '/tmp',
  env: { PATH: '/usr/bin:/bin' },
  timeoutMs: 30_000,
  maxOutputBytes: 4_096,
};
const steps: Record<string, number[]> = { none: [], 'user+pid namespace': [] };
for (let i = 0; i <= REPS; i++) {
  for (const [name, sandbox] of Object.entries(variants)) {
    const ms = await timed(() => sandbox.run(request));
    if (i > 0) steps[name]!.push(ms); // the first round warms both up
  }
}
console.log(`detection (once per process): median ${median(detection).toFixed(1)} ms`);
for (const [name, values] of Object.entries(steps)) console.log(`step of /bin/true, ${name}: median ${median(values).toFixed(1)} ms`);
console.log(`isolation per step: ${(median(steps['user+pid namespace']!) - median(steps.none!)).toFixed(1)} ms`);
