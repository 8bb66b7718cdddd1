import { randomInt } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import type { RunState } from '../../src/orchestrator/run-state.js';
import { runGit, tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

/** The environment a run gets: explicit, never this process's own. */
const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

interface QfResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function qf(argv: string[], options: { cwd: string; env?: Record<string, string> }): Promise<QfResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: options.env ?? BASE_ENV,
    cwd: options.cwd,
  });
  return { code, stdout, stderr };
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** Runs `qf run` on a fresh copy of a fixture project; evidence goes to `<tmp>/out`. */
async function runFixture(repo: TempGitRepo, extra: string[] = [], env?: Record<string, string>) {
  const out = path.join(path.dirname(repo.dir), 'out');
  const result = await qf(['run', '--repo', repo.dir, '--out', out, ...extra], { cwd: repo.dir, ...(env ? { env } : {}) });
  const evidence = await readJson<Evidence>(path.join(out, 'evidence.json'));
  return { ...result, out, evidence };
}

function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(text).not.toContain('unexpected error');
}

const repos: TempGitRepo[] = [];
async function fixtureRepo(name: string): Promise<TempGitRepo> {
  const repo = await tempGitRepo(name);
  repos.push(repo);
  return repo;
}
afterAll(async () => {
  await Promise.all(repos.map((repo) => repo.cleanup()));
});

describe('qf run on real pytest projects', () => {
  it('passes when every test passes, and writes evidence and a summary', async () => {
    const repo = await fixtureRepo('passing');
    const run = await runFixture(repo);
    expect(run.code).toBe(ExitCode.pass);
    expect(run.stdout.split('\n').slice(0, 2)).toEqual(['PASS · 5 passed, 0 failed, 0 errors, 1 skipped', '  All 3 gate rules hold.']);
    // A "… unit running" line every 10 s while the step runs (a busy machine may take that long).
    expect(run.stderr).toMatch(/^▶ unit \(run_pytest\)\n( {2}… unit running, \d+ s, \d+ tests done\n)*✔ unit passed in \d+\.\d s\n$/);
    const { evidence } = run;
    expect(evidence.complete).toBe(true);
    expect(evidence.gate.verdict).toBe('pass');
    expect(evidence.repro.gitSha).toBe(repo.head);
    expect(evidence.repro.branch).toBe('main');
    expect(evidence.repro.dirty).toBe(false);
    expect(evidence.repro.versions.pytest).toMatch(/^\d+\.\d+/);
    // pytest's own output, read through the sandbox's pipes: session header kept, no progress percentages.
    expect(evidence.steps[0]!.sandbox!.stdoutTail).toMatch(/^=+ test session starts =+\nplatform /);
    expect(evidence.steps[0]!.sandbox!.stdoutTail).toMatch(/\n=+ 5 passed, 1 skipped in [\d.]+s =+\n$/);
    expect(evidence.steps[0]!.sandbox!.stdoutTail).not.toMatch(/\[\s*\d+%\]/);
    expect(evidence.policy.path).toBe('.github/qualityfoundry.yml');
    expect(evidence.plan.steps).toEqual([
      { id: 'unit', tool: 'run_pytest', input: { paths: [], args: [], python: 'python3' }, matched: ['changed: pricing.py matches **/*.py'], failFast: false },
    ]);
    expect(evidence.steps[0]!.tests!.counts).toEqual({
      total: 6,
      passed: 5,
      failed: 0,
      errors: 0,
      skipped: 1,
      xfailed: 0,
      xpassed: 0,
      subtestsPassed: 0,
      subtestsFailed: 0,
      deselected: 0,
    });
    expect(evidence.metrics).toMatchObject({
      'pytest.total': 6,
      'pytest.passed': 5,
      'pytest.failed': 0,
      'pytest.pass_rate': 1,
      'steps.total': 1,
      'steps.failed': 0,
    });
    expect(evidence.artifacts.map((artifact) => artifact.path)).toEqual(['reports/unit/junit.xml', 'summary.md']);
    const summary = await readFile(path.join(run.out, 'summary.md'), 'utf8');
    expect(summary.split('\n')[0]).toBe('## ✅ **Passed** — QualityFoundry');
    // The state machine's own events, in order (governance adds its own psmp.* events in between).
    expect(evidence.audit.map((event) => event.action).filter((action) => !action.startsWith('psmp.'))).toEqual([
      'policy.loaded',
      'transition',
      'plan.built',
      'transition',
      'transition',
      'step.started',
      'step.finished',
      'transition',
      'transition',
      'gate.decided',
      'transition',
      'evidence.sealed',
    ]);

    // The same evidence verifies.
    const verify = await qf(['verify', run.out], { cwd: repo.dir });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toBe(
      `✔ ${run.out}: 2 artifacts match their digests; audit chain of ${evidence.audit.length} events intact; signature not checked (no --key); verdict pass\n`,
    );
  });

  it('fails when a test fails, naming the failure at file:line', async () => {
    const repo = await fixtureRepo('failing');
    const run = await runFixture(repo);
    expect(run.code).toBe(ExitCode.gateFailed);
    // The failed rule is printed once, under "Failed rules".
    expect(run.stdout).toContain('FAIL · 1 passed, 1 failed, 0 errors, 0 skipped\n\nFailed rules:\n  ✗ no-failures: pytest.failed is 1, expected == 0\n\n');
    expect(run.stdout.match(/no-failures/g)).toHaveLength(1);
    expect(run.stdout).toContain('Failed tests:\n  tests/test_totals.py:7: failed tests/test_totals.py::test_total_of_three_items — assert 6 == 7\n');
    const [failure] = run.evidence.steps[0]!.tests!.notable;
    expect(failure).toMatchObject({
      id: 'tests/test_totals.py::test_total_of_three_items',
      outcome: 'failed',
      file: 'tests/test_totals.py',
      line: 7,
      message: 'assert 6 == 7\n +  where 6 = total([1, 2, 3])',
    });
    expect(failure!.details).toMatch(/tests\/test_totals\.py:7: AssertionError$/);
    expect(run.evidence.steps[0]).toMatchObject({ status: 'failed', reason: '1 failed, 0 errors out of 2 tests.' });
    const summary = await readFile(path.join(run.out, 'summary.md'), 'utf8');
    expect(summary).toContain('- **failed** `tests/test_totals.py::test_total_of_three_items` `tests/test_totals.py:7` — assert 6 == 7');
  });

  it('fails on a fixture error, pointing at the fixture', async () => {
    const repo = await fixtureRepo('erroring');
    const run = await runFixture(repo);
    expect(run.code).toBe(ExitCode.gateFailed);
    expect(run.evidence.gate.reasons).toEqual(['Rule no-errors failed: pytest.errors is 1, expected == 0']);
    expect(run.evidence.steps[0]!.tests!.counts).toMatchObject({ total: 2, passed: 1, failed: 0, errors: 1 });
    expect(run.evidence.steps[0]!.tests!.notable).toMatchObject([
      {
        id: 'tests/test_database.py::test_reads_rows',
        outcome: 'error',
        file: 'tests/test_database.py',
        line: 6,
        message: 'failed on setup with "ConnectionError: database at db.invalid:5432 refused the connection"',
      },
    ]);
  });

  it('does not pass (and does not crash) when a test module has a syntax error', async () => {
    const repo = await fixtureRepo('collection-error');
    const run = await runFixture(repo);
    expect(run.code).toBe(ExitCode.gateFailed);
    expect(run.evidence.gate.verdict).toBe('fail');
    expect(run.evidence.gate.reasons).toEqual([
      'Step unit did not finish (error): pytest stopped: 1 errors during collection.',
      'Rule no-errors failed: pytest.errors is 1, expected == 0',
    ]);
    expect(run.evidence.steps[0]).toMatchObject({ status: 'error', sandbox: { exitCode: 2 } });
    expect(run.evidence.steps[0]!.tests!.notable).toMatchObject([
      { id: 'tests.test_broken', outcome: 'error', file: 'tests/test_broken.py', message: 'collection failure' },
    ]);
    expect(run.evidence.steps[0]!.tests!.notable[0]!.details).toContain('SyntaxError');
    expectNoStackTrace(run.stderr);
  });

  it('kills a hanging test and its whole process group at the deadline', async () => {
    const repo = await fixtureRepo('timeout');
    // A unique sleep duration marks the grandchild `sleep` the test starts.
    const marker = `7200.${randomInt(10_000_000, 99_999_999)}`;
    await writeFile(path.join(repo.dir, 'marker.txt'), `${marker}\n`);
    const run = await runFixture(repo);
    expect(run.code).toBe(ExitCode.gateFailed);
    // pytest is PID 1 of its step's PID namespace, which the kernel spares the SIGTERM (pytest has no
    // handler for it): the SIGKILL after the grace period ends it.
    expect(run.evidence.steps[0]).toMatchObject({
      status: 'timed_out',
      reason: 'pytest ran past the 8 s deadline and was killed.',
      attempts: 1,
      sandbox: { timedOut: true, exitCode: null, signal: 'SIGKILL', isolation: { mechanism: 'user+pid namespace' } },
    });
    expect(run.evidence.gate.reasons).toEqual(['Step unit did not finish (timed_out): pytest ran past the 8 s deadline and was killed.']);
    expect(run.evidence.metrics['steps.timed_out']).toBe(1);
    // The test did start the grandchild before it hung (its stdout shows the test running).
    expect(run.evidence.steps[0]!.sandbox!.stdoutTail).toContain('tests/test_hangs.py ');

    // The namespace ended with pytest; give the kernel a moment to reap, then look for the grandchild.
    let leftovers: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      const ps = await execa('ps', ['-eo', 'pid,stat,args'], { stdin: 'ignore' });
      leftovers = ps.stdout.split('\n').filter((line) => line.includes(`sleep ${marker}`) && !/\sZ/.test(line));
      if (leftovers.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(leftovers).toEqual([]);
  });

  it('caps a flood of output and still completes the run', async () => {
    const repo = await fixtureRepo('huge-output');
    const run = await runFixture(repo);
    expect(run.code).toBe(ExitCode.pass);
    const sandbox = run.evidence.steps[0]!.sandbox!;
    // ~20 MiB printed, 64 KiB kept: everything else is counted as dropped.
    expect(sandbox.droppedBytes).toBeGreaterThan(20 * 1024 * 1024 - 2 * 65_536);
    expect(sandbox.droppedBytes).toBeLessThan(21 * 1024 * 1024);
    expect(sandbox.stdoutTail.length).toBe(4_096);
    expect(sandbox.stdoutTail).toMatch(/1 passed in [\d.]+s =+\n$/);
    expect(run.evidence.steps[0]!.tests!.counts).toMatchObject({ total: 1, passed: 1 });
  });

  it('never lets credentials into the tested code, even when the allowlist names them', async () => {
    const repo = await fixtureRepo('secrets');
    const env = {
      ...BASE_ENV,
      GITHUB_TOKEN: 'qf-leak-github',
      ACTIONS_RUNTIME_TOKEN: 'qf-leak-runtime',
      AWS_SECRET_ACCESS_KEY: 'qf-leak-aws',
      MY_API_KEY: 'qf-leak-api',
      DB_PASSWORD: 'qf-leak-db',
      MY_REGION: 'eu-west-1',
      DB_HOST: 'db.internal',
    };
    const run = await runFixture(repo, [], env);
    expect(run.stdout.split('\n')[0]).toBe('PASS · 7 passed, 0 failed, 0 errors, 0 skipped');
    expect(run.code).toBe(ExitCode.pass);
    expect(run.evidence.gate.rules.map((rule) => [rule.id, rule.status, rule.observed])).toEqual([
      ['no-failures', 'pass', 0],
      ['all-ran', 'pass', 7],
    ]);
    // Nor do the values end up in the evidence.
    expect(JSON.stringify(run.evidence)).not.toContain('qf-leak-');
  });

  it('reports a Python without pytest as configuration: clearly, not retried, exit 2', async () => {
    const repo = await fixtureRepo('no-pytest');
    await execa('python3', ['-m', 'venv', '--without-pip', '.venv-bare'], { cwd: repo.dir, stdin: 'ignore' });
    const run = await runFixture(repo);
    expect(run.code).toBe(ExitCode.badInput);
    const reason =
      'pytest is not installed for this Python interpreter (.venv-bare/bin/python: "No module named pytest"); install it (pip install pytest) or set `with.python` or `sandbox.python` in the policy. This is configuration: the step is not retried and the run exits 2.';
    expect(run.stderr).toContain(`qf: ${reason}`);
    expect(run.evidence).toMatchObject({ complete: false, incompleteReason: reason });
    // max_retries is 2, and the step was started once.
    expect(run.evidence.audit.filter((event) => event.action === 'step.started')).toHaveLength(1);
    expect(run.evidence.repro.versions.pytest).toBeNull();
    expectNoStackTrace(run.stderr);
  });
});

describe('approvals through the CLI', () => {
  let repo: TempGitRepo;
  let out: string;
  let firstPlanHash: string;
  beforeAll(async () => {
    repo = await fixtureRepo('approval');
    out = path.join(path.dirname(repo.dir), 'out');
  });

  it('waits for a human (exit 3), saves the run state, and resumes with --approve', async () => {
    const waiting = await qf(['run', '--repo', repo.dir, '--out', out], { cwd: repo.dir });
    expect(waiting.code).toBe(ExitCode.waitingForHuman);
    const evidence = await readJson<Evidence>(path.join(out, 'evidence.json'));
    firstPlanHash = evidence.plan.planHash;
    expect(waiting.stdout).toContain(
      'WAITING FOR APPROVAL\n  The plan needs a human approval before it runs.\n  Needs 1 approval(s), has 0. Why: changed: migrations/0001_create_orders.sql matches migrations/**.\n',
    );
    expect(waiting.stdout).toContain(`Plan ${firstPlanHash}\n`);
    expect(evidence.gate.verdict).toBe('needs_approval');
    expect(evidence.steps).toEqual([]);
    expect(evidence.approval).toEqual({
      required: true,
      needed: 1,
      reason: 'changed: migrations/0001_create_orders.sql matches migrations/**',
      status: 'waiting',
      approvals: [],
      rejected: [],
    });
    const state = await readJson<RunState>(path.join(out, 'run-state.json'));
    expect(state.node).toBe('approve');
    expect(state.plan?.planHash).toBe(firstPlanHash);

    const resumed = await qf(['run', '--repo', repo.dir, '--out', out, '--resume', '--approve'], { cwd: repo.dir });
    expect(resumed.stderr).toContain('✔ unit passed');
    expect(resumed.code).toBe(ExitCode.pass);
    const done = await readJson<Evidence>(path.join(out, 'evidence.json'));
    expect(done.runId).toBe(evidence.runId);
    expect(done.plan.planHash).toBe(firstPlanHash);
    expect(done.approval.status).toBe('approved');
    expect(done.approval.approvals).toMatchObject([{ planHash: firstPlanHash, source: 'cli' }]);
    expect(done.steps.map((step) => [step.id, step.status])).toEqual([['unit', 'passed']]);
    // The resumed run continues the same audit chain, which still verifies end to end.
    expect(done.audit.filter((event) => event.action === 'approval.waiting')).toHaveLength(1);
    expect(done.audit.filter((event) => event.action === 'approval.accepted')).toHaveLength(1);
    expect((await qf(['verify', out], { cwd: repo.dir })).code).toBe(0);
  });

  it('keeps waiting when --approvals FILE approves an older plan, and says why', async () => {
    // Change the policy: the plan hash covers the policy's digest, so the old approval no longer fits.
    const policyFile = path.join(repo.dir, '.github/qualityfoundry.yml');
    await writeFile(policyFile, (await readFile(policyFile, 'utf8')).replace('timeout_seconds: 60', 'timeout_seconds: 90'));
    await runGit(repo.dir, ['commit', '-qam', 'longer timeout']);
    const { dir, cleanup } = await tempDir();
    try {
      const approvalsFile = path.join(dir, 'approvals.json');
      await writeFile(approvalsFile, JSON.stringify([{ by: 'alice', planHash: firstPlanHash }]));
      const run = await qf(['run', '--repo', repo.dir, '--out', path.join(dir, 'out'), '--approvals', approvalsFile], { cwd: repo.dir });
      expect(run.code).toBe(ExitCode.waitingForHuman);
      const evidence = await readJson<Evidence>(path.join(dir, 'out', 'evidence.json'));
      expect(evidence.plan.planHash).not.toBe(firstPlanHash);
      expect(evidence.gate.reasons).toEqual([
        'The plan needs a human approval before it runs.',
        'Needs 1 approval(s), has 0. Why: changed: migrations/0001_create_orders.sql matches migrations/**.',
        `Approval by alice is for plan ${firstPlanHash.slice(0, 12)}, not the current plan ${evidence.plan.planHash.slice(0, 12)}.`,
      ]);
      expect(evidence.audit.filter((event) => event.action === 'approval.ignored').map((event) => event.data.note)).toEqual([evidence.gate.reasons[2]]);
    } finally {
      await cleanup();
    }
  });
});

describe('bad input: exit 2, one paragraph, no stack trace', () => {
  it('names a missing repository', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const missing = path.join(dir, 'no-such-repo');
      const run = await qf(['run', '--repo', missing], { cwd: dir });
      expect(run).toEqual({
        code: ExitCode.badInput,
        stdout: '',
        stderr: `qf: Repository folder ${missing} does not exist; expected the path of a git checkout (--repo DIR).\n`,
      });
    } finally {
      await cleanup();
    }
  });

  it('names a folder that is not a git repository', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const run = await qf(['run', '--repo', dir], { cwd: dir });
      expect(run).toEqual({
        code: ExitCode.badInput,
        stdout: '',
        stderr: `qf: ${dir} is not a git repository; expected a git checkout (run \`git init\` or point --repo at one).\n`,
      });
    } finally {
      await cleanup();
    }
  });

  it('lists every problem of a broken policy with file:line:column', async () => {
    const repo = await fixtureRepo('broken-policy');
    const run = await qf(['run', '--repo', repo.dir, '--out', path.join(path.dirname(repo.dir), 'out')], { cwd: repo.dir });
    const file = path.join(repo.dir, '.github/qualityfoundry.yml');
    expect(run.code).toBe(ExitCode.badInput);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        `qf: Policy ${file} has 3 problems:`,
        `${file}:3:20: sandbox.timeout_seconds: expected number, got "ten"`,
        `${file}:8:10: plan[0].run: unknown tool "run_pytset"; did you mean "run_pytest"?`,
        `${file}:10:51: gate[0].op: expected one of "=="|"!="|"<"|"<="|">"|">=", got "=<"; did you mean "=="?`,
        '',
      ].join('\n'),
    );
  });

  it('refuses an unknown flag and a missing --repo', async () => {
    const unknown = await qf(['run', '--repository', '.'], { cwd: '/' });
    expect(unknown.code).toBe(ExitCode.badInput);
    expect(unknown.stderr.split('\n')[0]).toBe('qf run: unknown flag --repository');
    expect(unknown.stderr.split('\n')[1]).toBe('Usage: qf run --repo DIR [--policy FILE] [--base REF] [--head REF] [--changed FILE]... [--label NAME]...');
    const missing = await qf(['run'], { cwd: '/' });
    expect(missing.code).toBe(ExitCode.badInput);
    expect(missing.stderr.split('\n').slice(0, 2)).toEqual([
      'qf run: --repo DIR is required.',
      'Usage: qf run --repo DIR [--policy FILE] [--base REF] [--head REF] [--changed FILE]... [--label NAME]...',
    ]);
    expectNoStackTrace(unknown.stderr + missing.stderr);
  });

  it('exits 130 when interrupted, with the evidence written and marked incomplete', async () => {
    const repo = await tempGitRepo('passing');
    repos.push(repo);
    const out = path.join(path.dirname(repo.dir), 'out');
    const interrupt = new AbortController();
    interrupt.abort('SIGINT');
    let stderr = '';
    const code = await main(['run', '--repo', repo.dir, '--out', out], {
      stdout: () => undefined,
      stderr: (text) => (stderr += text),
      env: BASE_ENV,
      cwd: repo.dir,
      signal: interrupt.signal,
    });
    expect(code).toBe(ExitCode.interrupted);
    expect(code).toBe(130);
    expect(stderr).toBe(
      `qf: Run interrupted (SIGINT) before step unit; not run: unit.\nEvidence (marked incomplete): ${path.join(out, 'evidence.json')}\nSummary: ${path.join(out, 'summary.md')}\n`,
    );
    const evidence = await readJson<Evidence>(path.join(out, 'evidence.json'));
    expect(evidence).toMatchObject({ complete: false, incompleteReason: 'Run interrupted (SIGINT) before step unit; not run: unit.' });
  });
});
