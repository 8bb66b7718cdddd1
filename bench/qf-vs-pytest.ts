/**
 * Wall time of `qf run` against plain `python3 -m pytest` on the same generated suite of real
 * pytest tests (each doing some arithmetic, ~1.5 ms at the default 15,000 rounds; some modules
 * parametrized), in a temp git repo. A third command, pytest with exactly the arguments and
 * environment qf gives it (JUnit report, classic output, no bytecode written), splits the
 * difference: **qf's own cost** is `qf run` minus that command (target ≤ 150 ms); the whole
 * ratio `qf run` / plain pytest is the figure for long suites (target ≤ 1.03 at ≥ 10 s).
 *
 *   node --import tsx bench/qf-vs-pytest.ts [--tests 1000] [--rounds 15000] [--reps 7] [--python pytest-only|installed|both]
 *
 * In one or two Python environments (pytest-only by default), each timed on its own:
 * - installed: `python3` as this machine's PATH finds it, with what it carries. Here that is a pyenv
 *   shim (bash scripts, ~0.15 s before Python starts) and the hypothesis and pytest-benchmark
 *   plugins: hypothesis's closing summary imports all of hypothesis, ~0.5 s at the end of every run.
 *   Plain pytest and qf pay these alike, so they shrink the ratio without saying anything about qf.
 * - pytest-only: a virtual environment made from the same interpreter with only pytest and what it
 *   requires (linked in, nothing downloaded), first on PATH as an activated one is: what a CI job
 *   that installs pytest runs. This is the fair denominator.
 *
 * Each command is timed twice over: wall time, and the CPU time (user + system) of it and every
 * descendant it waited for, from GNU time (`/usr/bin/time`, Debian's `time` package). On a loaded
 * machine wall time grows with everyone else's work; CPU time barely does, so qf's own CPU (qf run's
 * minus pytest's with qf's arguments) is the figure that survives a shared machine.
 *
 * Every timed command starts from a clean checkout (`git clean -fdX` removes __pycache__ and
 * .pytest_cache), as on a CI runner, where each run is a fresh clone.
 *
 * qf is run as installed, `node bin/qf.js`, when dist/ is built, else `node --import tsx
 * src/cli/index.ts` (the figure then includes tsx's TypeScript loading). Runs alternate; medians
 * are reported. When NODE_EXTRA_CA_CERTS is set, qf is timed a second time without it: Node reads
 * and parses that certificate bundle before any of qf's code runs (~40 ms per process for the
 * 225 KB system bundle on the machine these figures come from), and GitHub's runners do not set it.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PYTEST_EXTRA_ENV } from '../src/constants.js';
import { pytestArguments } from '../src/tools/run-pytest.js';

const run = promisify(execFile);
/** GNU time (Debian's `time` package), for the CPU time of each command and its descendants. */
const TIME = '/usr/bin/time';
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const TESTS = option('--tests', 1_000);
const pythonIndex = args.indexOf('--python');
const pythonChoice = pythonIndex >= 0 ? args[pythonIndex + 1] : 'pytest-only';
const PYTHONS = pythonChoice === 'both' ? ['installed', 'pytest-only'] : [pythonChoice];
const REPS = option('--reps', 7);
const ROUNDS = option('--rounds', 15_000);
const PER_MODULE = 50;

const WORK = `def work(seed, rounds=${ROUNDS}):
    total = 0
    for i in range(rounds):
        total = (total + i * seed) % 1_000_003
    return total
`;

async function generateSuite(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'tests'), { recursive: true });
  await mkdir(path.join(dir, '.github'), { recursive: true });
  await writeFile(path.join(dir, 'pytest.ini'), '[pytest]\ntestpaths = tests\n');
  await writeFile(path.join(dir, 'tests/helpers.py'), WORK);
  await writeFile(path.join(dir, 'tests/conftest.py'), 'import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parent))\n');
  const modules = Math.ceil(TESTS / PER_MODULE);
  for (let m = 0; m < modules; m++) {
    const count = Math.min(PER_MODULE, TESTS - m * PER_MODULE);
    let body = 'import pytest\n\nfrom helpers import work\n\n';
    if (m % 4 === 0) {
      body += `\n@pytest.mark.parametrize("seed", range(${count}))\ndef test_parametrized(seed):\n    assert work(seed + 1) >= 0\n`;
    } else {
      for (let t = 0; t < count; t++) body += `\ndef test_case_${t}():\n    assert work(${m * PER_MODULE + t + 1}) >= 0\n`;
    }
    await writeFile(path.join(dir, `tests/test_module_${String(m).padStart(3, '0')}.py`), body);
  }
  await writeFile(
    path.join(dir, '.github/qualityfoundry.yml'),
    `version: 1\nsandbox: { timeout_seconds: 600 }\ntools: { allowlist: [run_pytest] }\nplan:\n  - { id: unit, when: { always: true }, run: run_pytest }\ngate:\n  - { id: no-failures, metric: pytest.failed, op: "==", value: 0 }\n`,
  );
  await writeFile(path.join(dir, '.gitignore'), '.pytest_cache/\n__pycache__/\n');
  const git = (...gitArgs: string[]) =>
    run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', '-c', 'init.defaultBranch=main', ...gitArgs], { cwd: dir });
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'suite');
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * Runs a command with stdout and stderr going to a file, as every timed command does: read through a
 * pipe, each of pytest's per-test flushes would wake this process, and on two cores that slows pytest
 * itself (~50 ms per 1,000 tests, see the 2026-11-23 notes in bench/results/core.md).
 */
async function timed(
  command: string,
  commandArgs: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ ms: number; cpuMs: number; stdout: string }> {
  const [stdoutFile, stderrFile, cpuFile] = [path.join(dir, 'stdout.txt'), path.join(dir, 'stderr.txt'), path.join(dir, 'cpu.txt')];
  const [stdoutFd, stderrFd] = [openSync(stdoutFile, 'w'), openSync(stderrFile, 'w')];
  const started = performance.now();
  // GNU time reports the CPU (user + system) of the command and every descendant it waited for: on a
  // shared machine, wall time grows with everyone else's load, CPU time much less.
  const child = spawn(TIME, ['-f', '%U %S', '-o', cpuFile, command, ...commandArgs], { cwd, env, stdio: ['ignore', stdoutFd, stderrFd] });
  closeSync(stdoutFd);
  closeSync(stderrFd);
  const exitCode = await new Promise<number | null>((resolve, reject) => child.once('exit', resolve).once('error', reject));
  const ms = performance.now() - started;
  const stdout = await readFile(stdoutFile, 'utf8');
  if (exitCode !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (${exitCode}): ${stdout.slice(-500)}${await readFile(stderrFile, 'utf8')}`);
  const [user, system] = (await readFile(cpuFile, 'utf8')).trim().split(/\s+/).slice(-2).map(Number);
  return { ms, cpuMs: (user! + system!) * 1000, stdout };
}

/**
 * Makes a virtual environment of the interpreter behind `python3` holding only pytest and its
 * requirements (markers evaluated), linked from where they are installed; prints their names.
 */
const PYTEST_ONLY_VENV = `
import importlib.metadata as metadata, os, subprocess, sys
from packaging.requirements import Requirement
target = sys.argv[1]
subprocess.run([sys._base_executable, '-m', 'venv', '--without-pip', target], check=True)
purelib = subprocess.run([os.path.join(target, 'bin', 'python'), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], check=True, capture_output=True, text=True).stdout.strip()
seen, pending = set(), ['pytest']
while pending:
    distribution = metadata.distribution(pending.pop())
    name = distribution.metadata['Name'].lower()
    if name in seen:
        continue
    seen.add(name)
    for requirement in map(Requirement, distribution.requires or []):
        if requirement.marker is None or requirement.marker.evaluate({'extra': ''}):
            pending.append(requirement.name)
    for top in {file.parts[0] for file in distribution.files if file.parts[0] != '..'}:
        if not os.path.lexists(os.path.join(purelib, top)):
            os.symlink(distribution.locate_file(top), os.path.join(purelib, top))
print(' '.join(sorted(seen)))
`;

async function pytestOnlyEnv(venv: string): Promise<{ env: NodeJS.ProcessEnv; describe: string }> {
  const { stdout } = await run('python3', ['-c', PYTEST_ONLY_VENV, venv]);
  const env = { ...process.env, PATH: `${path.join(venv, 'bin')}${path.delimiter}${process.env.PATH ?? ''}` };
  return { env, describe: `a venv with only ${stdout.trim()}, first on PATH` };
}

/** What a fresh clone has: no bytecode cache, no .pytest_cache (the suite's .gitignore names both). */
const cleanCheckout = (repo: string) => run('git', ['clean', '-fdXq'], { cwd: repo });

const dir = await mkdtemp(path.join(os.tmpdir(), 'qf-bench-suite-'));
const repo = path.join(dir, 'repo');
const bin = path.join(ROOT, 'bin/qf.js');
const built = existsSync(path.join(ROOT, 'dist/cli.js'));
const qfArgv = built ? [bin] : ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts')];
const how = built ? 'node bin/qf.js' : 'node --import tsx src/cli/index.ts';

/** Times every command in one Python environment, alternating, and prints its table. */
async function measure(label: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { NODE_EXTRA_CA_CERTS: extraCerts, ...envWithoutExtraCerts } = env;
  const qfRuns = [{ label: `qf run (${how})`, env, ms: [] as number[], cpuMs: [] as number[] }];
  if (extraCerts) qfRuns.push({ label: `qf run (${how}), NODE_EXTRA_CA_CERTS unset`, env: envWithoutExtraCerts, ms: [], cpuMs: [] });
  const pytestMs: number[] = [];
  const pytestCpuMs: number[] = [];
  // Bare `node -e ""` in the same rounds: the floor any Node CLI pays, and a gauge of the load.
  const bareNodeMs: number[] = [];
  const bareNodeCpuMs: number[] = [];
  const pytestAsQfCpuMs: number[] = [];
  // pytest as qf runs it (JUnit report and all), outside qf: splits qf's overhead into what pytest
  // spends writing the report the issue asks for and what qf itself adds.
  const pytestAsQfMs: number[] = [];
  const asQfArgs = pytestArguments({ paths: [], args: [] }, path.join(dir, 'junit.xml'));
  const passed = (stdout: string) => stdout.includes(`${TESTS} passed`);
  for (let rep = -1; rep < REPS; rep++) {
    const bare = await timed(process.execPath, ['-e', ''], ROOT, env);
    if (rep >= 0) {
      bareNodeMs.push(bare.ms);
      bareNodeCpuMs.push(bare.cpuMs);
    }
    await cleanCheckout(repo);
    const pytest = await timed('python3', ['-m', 'pytest'], repo, env);
    if (!passed(pytest.stdout)) throw new Error(`pytest did not pass ${TESTS} tests: ${pytest.stdout.slice(-300)}`);
    if (rep >= 0) {
      pytestMs.push(pytest.ms);
      pytestCpuMs.push(pytest.cpuMs);
    }
    await cleanCheckout(repo);
    const asQf = await timed('python3', asQfArgs, repo, { ...env, ...PYTEST_EXTRA_ENV });
    if (!passed(asQf.stdout)) throw new Error(`pytest (qf's arguments) did not pass ${TESTS} tests: ${asQf.stdout.slice(-300)}`);
    if (rep >= 0) {
      pytestAsQfMs.push(asQf.ms);
      pytestAsQfCpuMs.push(asQf.cpuMs);
    }
    for (const [index, qfRun] of qfRuns.entries()) {
      await cleanCheckout(repo);
      const qf = await timed(process.execPath, [...qfArgv, 'run', '--repo', repo, '--out', path.join(dir, `out-${rep}-${index}`)], ROOT, qfRun.env);
      if (!qf.stdout.startsWith(`PASS · ${TESTS} passed`)) throw new Error(`qf run did not pass: ${qf.stdout.slice(0, 300)}`);
      if (rep >= 0) {
        qfRun.ms.push(qf.ms);
        qfRun.cpuMs.push(qf.cpuMs);
      }
    }
  }
  const p = median(pytestMs);
  const asQfMedian = median(pytestAsQfMs);
  const runs = (values: number[]) => values.map((ms) => ms.toFixed(0)).join(', ');
  console.log(`\n### Python: ${label}\n`);
  console.log('| command | median wall time | all runs (ms) | median CPU (user + system, with descendants) | all runs (CPU ms) |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| node -e "" (bare Node, the floor) | ${median(bareNodeMs).toFixed(0)} ms | ${runs(bareNodeMs)} | ${median(bareNodeCpuMs).toFixed(0)} ms | ${runs(bareNodeCpuMs)} |`,
  );
  console.log(`| python3 -m pytest (clean checkout) | ${p.toFixed(0)} ms | ${runs(pytestMs)} | ${median(pytestCpuMs).toFixed(0)} ms | ${runs(pytestCpuMs)} |`);
  console.log(
    `| PYTHONDONTWRITEBYTECODE=1 python3 ${asQfArgs.join(' ').replace(dir, '$TMP')} | ${asQfMedian.toFixed(0)} ms | ${runs(pytestAsQfMs)} | ${median(pytestAsQfCpuMs).toFixed(0)} ms | ${runs(pytestAsQfCpuMs)} |`,
  );
  for (const qfRun of qfRuns)
    console.log(`| ${qfRun.label} | ${median(qfRun.ms).toFixed(0)} ms | ${runs(qfRun.ms)} | ${median(qfRun.cpuMs).toFixed(0)} ms | ${runs(qfRun.cpuMs)} |`);
  console.log('');
  // The machine is shared: load drifts between repetitions, so qf's own cost is also taken pairwise,
  // each qf run against the pytest-with-qf's-arguments run just before it, and the median of those.
  for (const qfRun of qfRuns) {
    const paired = qfRun.ms.map((ms, index) => ms - pytestAsQfMs[index]!);
    console.log(`${qfRun.label}: qf's own cost, median of the ${paired.length} paired differences: ${median(paired).toFixed(0)} ms (${runs(paired)})`);
    const pairedCpu = qfRun.cpuMs.map((ms, index) => ms - pytestAsQfCpuMs[index]!);
    console.log(
      `${qfRun.label}: qf's own CPU (qf run − pytest with qf's arguments, user + system): median of medians ${(median(qfRun.cpuMs) - median(pytestAsQfCpuMs)).toFixed(0)} ms, median of the paired differences ${median(pairedCpu).toFixed(0)} ms (${runs(pairedCpu)}); CPU ratio qf run / plain pytest ${(median(qfRun.cpuMs) / median(pytestCpuMs)).toFixed(3)}`,
    );
  }
  for (const qfRun of qfRuns) {
    const q = median(qfRun.ms);
    console.log(
      `${qfRun.label}: qf's own cost (qf run − pytest with qf's arguments) ${(q - asQfMedian).toFixed(0)} ms (target <= 150); ratio qf run / plain pytest ${(q / p).toFixed(3)} (target <= 1.03 on a suite of >= 10 s); of the ${(q - p).toFixed(0)} ms over plain pytest, ${(asQfMedian - p).toFixed(0)} ms is pytest's own with qf's arguments`,
    );
  }
}

try {
  await mkdir(repo);
  await generateSuite(repo);
  console.log(`suite: ${TESTS} tests of ${ROUNDS} rounds in ${Math.ceil(TESTS / PER_MODULE)} modules (every 4th parametrized), ${repo}`);
  console.log(
    `qf as: ${how}; ${REPS} repetitions each, interleaved (plus one warm-up of each); ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')} at the start`,
  );
  for (const python of PYTHONS) {
    if (python === 'installed') await measure('installed (`python3` as PATH finds it, with its plugins)', process.env);
    else if (python === 'pytest-only') {
      const { env, describe } = await pytestOnlyEnv(path.join(dir, 'pytest-only'));
      await measure(`pytest-only (${describe})`, env);
    } else throw new Error(`--python must be installed or pytest-only, not ${python}`);
  }
  console.log(
    `\nload average at the end: ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
