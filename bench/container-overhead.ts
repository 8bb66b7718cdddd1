/**
 * Per-step overhead of the container sandbox, next to a plain `docker run` with the same flags and
 * next to the subprocess sandbox: the same small pytest suite, the same run, interleaved so drift in
 * the machine's load hits all three alike. Reports medians of several repetitions and their ratios.
 *
 *   npx tsx bench/container-overhead.ts [--reps N] [--write]
 *
 * Needs the engine and the image (scripts/install-docker-engine.sh, scripts/build-sandbox-image.sh)
 * and python3 with pytest on the host. `--write` also writes bench/results/container.md.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { execa } from 'execa';
import { ContainerSchema, SandboxSchema } from '../src/policy/schema.js';
import { ContainerSandbox } from '../src/sandbox/container-sandbox.js';
import { DEFAULT_SANDBOX_IMAGE } from '../src/sandbox/create-sandbox.js';
import { probeDockerEngine } from '../src/sandbox/docker-engine.js';
import { buildSandboxEnv } from '../src/sandbox/sandbox-env.js';
import { SubprocessSandbox } from '../src/sandbox/subprocess-sandbox.js';
import type { Sandbox, SandboxRequest } from '../src/sandbox/types.js';

const argv = process.argv.slice(2);
const repsFlag = argv.indexOf('--reps');
const REPS = repsFlag >= 0 ? Number(argv[repsFlag + 1]) : 9;
const WRITE = argv.includes('--write');
const SUITE = fileURLToPath(new URL('../test/fixtures/sandbox-escapes/parity-passing/', import.meta.url)).replace(/\/$/, '');
const RESULTS = fileURLToPath(new URL('./results/container.md', import.meta.url));

const docker = new Docker();
const settings = ContainerSchema.parse({ image: DEFAULT_SANDBOX_IMAGE });
const policy = SandboxSchema.parse({});

interface Workload {
  name: string;
  args: (outputDir: string) => string[];
}

const workloads: Workload[] = [
  {
    name: 'pytest suite (`test/fixtures/sandbox-escapes/parity-passing`: 4 tests + 1 skip, JUnit report)',
    args: (outputDir) => ['-m', 'pytest', '-q', `--junitxml=${outputDir}/junit.xml`, '-o', 'junit_family=xunit1', '-p', 'no:cacheprovider'],
  },
  // Isolates the sandbox's own cost from the difference between the host's and the image's pytest.
  { name: 'empty step (`python3 -c pass`)', args: () => ['-c', 'pass'] },
];

/** The container sandbox's hardening as `docker run` flags (mirrors containerOptions). */
function dockerRunArgs(request: SandboxRequest): string[] {
  const mb = settings.memory_mb;
  return [
    'run',
    '--rm',
    '--network',
    'none',
    '--read-only',
    '--tmpfs',
    `/tmp:rw,noexec,nosuid,nodev,size=${settings.tmpfs_mb}m,mode=1777`,
    '--mount',
    `type=bind,source=${request.repoDir},target=${request.repoDir},readonly`,
    '--mount',
    `type=bind,source=${request.outputDir},target=${request.outputDir}`,
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--user',
    settings.user,
    '--ipc',
    'private',
    '--pids-limit',
    String(settings.pids_limit),
    '--memory',
    `${mb}m`,
    '--memory-swap',
    `${mb}m`,
    '--cpus',
    String(settings.cpus),
    '--ulimit',
    `nofile=${settings.nofile}:${settings.nofile}`,
    '--ulimit',
    `nproc=${settings.pids_limit}:${settings.pids_limit}`,
    '--ulimit',
    'core=0:0',
    '--init',
    '--log-driver',
    'none',
    '--hostname',
    'sandbox',
    '--workdir',
    request.repoDir,
    ...Object.entries(request.env).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
    settings.image,
    request.command,
    ...request.args,
  ];
}

type Variant = { name: string; python: string; run: (request: SandboxRequest) => Promise<number | null> };

const viaSandbox = (sandbox: Sandbox) => async (request: SandboxRequest) => (await sandbox.run(request)).exitCode;

// The host's real interpreter, not a version-manager shim (pyenv's costs ~0.5 s a call and is no sandbox cost).
const hostPython = (await execa('python3', ['-c', 'import sys; print(sys.executable)'])).stdout.trim();

const variants: Variant[] = [
  { name: 'subprocess sandbox', python: hostPython, run: viaSandbox(new SubprocessSandbox()) },
  { name: 'container sandbox (dockerode)', python: 'python3', run: viaSandbox(new ContainerSandbox({ docker, settings })) },
  {
    name: 'plain `docker run`, same flags',
    python: 'python3',
    run: async (request) => (await execa('docker', dockerRunArgs(request), { reject: false, stdin: 'ignore' })).exitCode ?? null,
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function measure(workload: Workload, scratch: string, env: Record<string, string>): Promise<Map<string, number[]>> {
  const timings = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
  // One untimed warm-up each (page cache, image layers), then REPS interleaved rounds.
  for (let round = -1; round < REPS; round += 1) {
    for (const [index, variant] of variants.entries()) {
      const outputDir = await mkdtemp(path.join(scratch, `${round + 1}-${index}-`));
      await chmod(outputDir, 0o777); // plain `docker run` gets no help from the sandbox: same folder prep by hand
      const request: SandboxRequest = {
        command: variant.python,
        args: workload.args(outputDir),
        repoDir: SUITE,
        outputDir,
        env,
        timeoutMs: 120_000,
        maxOutputBytes: policy.max_output_bytes,
      };
      const started = performance.now();
      const exitCode = await variant.run(request);
      const ms = performance.now() - started;
      if (exitCode !== 0) throw new Error(`${variant.name}, ${workload.name}: exited with ${exitCode}; expected 0`);
      if (round >= 0) timings.get(variant.name)!.push(ms);
    }
  }
  return timings;
}

function table(workload: Workload, timings: Map<string, number[]>): string[] {
  const [subprocess, container, dockerRun] = variants.map((variant) => median(timings.get(variant.name)!)) as [number, number, number];
  return [
    `## ${workload.name}`,
    '',
    '| Variant | median ms | min ms | max ms |',
    '| --- | ---: | ---: | ---: |',
    ...variants.map((variant) => {
      const values = timings.get(variant.name)!;
      return `| ${variant.name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} |`;
    }),
    '',
    '| Ratio | value |',
    '| --- | ---: |',
    `| container sandbox / subprocess sandbox | ${(container / subprocess).toFixed(2)}× |`,
    `| container sandbox / plain \`docker run\` | ${(container / dockerRun).toFixed(2)}× |`,
    `| plain \`docker run\` / subprocess sandbox | ${(dockerRun / subprocess).toFixed(2)}× |`,
    `| per-step overhead, container sandbox − subprocess sandbox | ${(container - subprocess).toFixed(0)} ms |`,
    '',
  ];
}

async function main(): Promise<void> {
  const probe = await probeDockerEngine(docker, settings.image);
  if (!probe.ok) throw new Error(`${probe.message}\nRun scripts/install-docker-engine.sh and scripts/build-sandbox-image.sh first.`);

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'qf-bench-container-'));
  const env = buildSandboxEnv(process.env, policy.env_allowlist, { PYTHONDONTWRITEBYTECODE: '1' });
  const sections: string[] = [];
  try {
    for (const workload of workloads) sections.push(...table(workload, await measure(workload, scratch, env)));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }

  const versions = 'import sys, pytest; print(sys.version.split()[0], "/ pytest", pytest.__version__)';
  const hostVersions = (await execa(hostPython, ['-c', versions], { reject: false })).stdout;
  const imageVersions = (await execa('docker', ['run', '--rm', '--network', 'none', settings.image, 'python3', '-c', versions], { reject: false })).stdout;
  const engine = (await docker.version()) as { Version?: string };
  const report = [
    '# Container sandbox overhead',
    '',
    `Wall-clock time of one step measured from the caller (create → output collected → container removed), medians of ${REPS} ` +
      'rounds after one warm-up round; the three variants run interleaved within each round. Container defaults: ' +
      `${settings.memory_mb} MiB, ${settings.cpus} CPU, pids ${settings.pids_limit}, user ${settings.user}.`,
    '',
    ...sections,
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Linux ${os.release()}, Node ${process.version}, ` +
      `Docker engine ${engine.Version ?? 'unknown'}; host python ${hostVersions}; image python ${imageVersions} (image ${probe.imageId.slice(0, 19)}…).`,
    "The host and the image run different pytest installs, so the pytest table mostly compares those: the host's pytest",
    'loads every plugin installed next to it (entry points) and pays that on each start. The empty-step table has no such',
    "difference and is the sandbox's own per-step cost.",
    '',
    'Rerun: `npx tsx bench/container-overhead.ts --reps 9 --write` (needs scripts/install-docker-engine.sh and scripts/build-sandbox-image.sh first).',
    '',
  ].join('\n');
  process.stdout.write(report);
  if (WRITE) await writeFile(RESULTS, report);
}

await main();
