import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noApprovals } from '../../src/cli/cli-approval-source.js';
import { ExitCode } from '../../src/constants.js';
import { verifyEvidence } from '../../src/evidence/verify-evidence.js';
import { NO_STEP_APPLIED } from '../../src/gate/judge.js';
import { orchestrate } from '../../src/orchestrator/orchestrate.js';
import { parsePolicy } from '../../src/policy/load-policy.js';
import { tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' };

let repo: TempGitRepo;
let work: { dir: string; cleanup: () => Promise<void> };
let runs = 0;

beforeAll(async () => {
  // tests/test_totals.py: one test passes, one fails at line 7.
  repo = await tempGitRepo('failing');
  work = await tempDir();
});
afterAll(async () => {
  await repo.cleanup();
  await work.cleanup();
});

async function run(policyYaml: string) {
  const policy = parsePolicy(policyYaml, { path: 'inline.yml', sourceRef: null });
  const outDir = path.join(work.dir, `run-${++runs}`);
  const outcome = await orchestrate({
    repoDir: repo.dir,
    outDir,
    policy,
    change: { base: null, head: null, changedFiles: ['tests/test_totals.py'], labels: [] },
    approvals: noApprovals,
    env: ENV,
    runId: `run-${runs}`,
  });
  return { ...outcome, outDir };
}

describe('orchestrate', () => {
  it('refuses a planned tool outside the allowlist, audits it, and blocks', async () => {
    const { evidence, exitCode } = await run(`version: 1
tools: { allowlist: [run_pytest], commands: { lint: [python3, -c, "print(1)"] } }
plan:
  - { id: lint, when: { always: true }, run: run_command, with: { command: lint } }
`);
    expect(exitCode).toBe(ExitCode.gateFailed);
    expect(evidence.gate.verdict).toBe('blocked');
    const reason = 'tool "run_command" is not in the policy\'s tools.allowlist (run_pytest)';
    expect(evidence.steps).toEqual([{ id: 'lint', tool: 'run_command', status: 'refused', reason, attempts: 0, durationMs: 0, metrics: {}, artifacts: [] }]);
    expect(evidence.gate.reasons).toEqual([`Step lint was refused: ${reason}`]);
    expect(evidence.audit.filter((event) => event.action === 'tool.refused').map((event) => event.data)).toEqual([
      { step: 'lint', tool: 'run_command', reason },
    ]);
    expect(evidence.metrics['steps.refused']).toBe(1);
  });

  it('refuses only the step outside the allowlist when others may run', async () => {
    const { evidence } = await run(`version: 1
tools: { allowlist: [run_pytest], commands: { lint: [python3, -c, "print(1)"] } }
plan:
  - { id: unit, when: { always: true }, run: run_pytest }
  - { id: lint, when: { always: true }, run: run_command, with: { command: lint } }
`);
    expect(evidence.steps.map((step) => [step.id, step.status, step.reason])).toEqual([
      ['unit', 'failed', '1 failed, 0 errors out of 2 tests.'],
      ['lint', 'refused', 'tool "run_command" is not in the policy\'s tools.allowlist (run_pytest)'],
    ]);
    expect(evidence.gate.verdict).toBe('blocked');
  });

  it('short-circuits after a failing fail-fast step, records why, and fails (the failure is the answer)', async () => {
    const { evidence } = await run(`version: 1
tools: { allowlist: [run_pytest, run_command], commands: { lint: [python3, -c, "print(1)"] } }
plan:
  - { id: unit, when: { always: true }, run: run_pytest, fail_fast: true }
  - { id: lint, when: { always: true }, run: run_command, with: { command: lint } }
gate:
  - { id: no-failures, metric: pytest.failed, op: "==", value: 0 }
`);
    expect(evidence.governance.shortCircuit).toEqual({ reason: 'fail-fast step unit ended failed', atStep: 'unit', kind: 'fail_fast' });
    expect(evidence.steps.map((step) => [step.id, step.status, step.reason])).toEqual([
      ['unit', 'failed', '1 failed, 0 errors out of 2 tests.'],
      ['lint', 'skipped', 'skipped: fail-fast step unit ended failed'],
    ]);
    expect(evidence.gate.verdict).toBe('fail');
    expect(evidence.gate.reasons).toEqual([
      'Step unit did not pass and is fail_fast: not run lint.',
      'Rule no-failures failed: pytest.failed is 1, expected == 0',
    ]);
    expect(evidence.audit.filter((event) => event.action === 'run.short_circuit')).toHaveLength(1);
  });

  it('stops at the total budget: the running step is cut, the rest skipped, the verdict blocked', async () => {
    const { evidence } = await run(`version: 1
budget: { total_seconds: 1 }
tools: { allowlist: [run_command], commands: { hang: [python3, -c, "import time; time.sleep(30)"], lint: [python3, -c, "print(1)"] } }
plan:
  - { id: hang, when: { always: true }, run: run_command, with: { command: hang } }
  - { id: lint, when: { always: true }, run: run_command, with: { command: lint } }
`);
    expect(evidence.steps.map((step) => [step.id, step.status])).toEqual([
      ['hang', 'timed_out'],
      ['lint', 'skipped'],
    ]);
    expect(evidence.governance.shortCircuit).toEqual({ reason: "the run's budget of 1 s ran out during step hang", atStep: 'hang', kind: 'budget' });
    expect(evidence.gate.verdict).toBe('blocked');
    expect(evidence.gate.reasons[0]).toBe("Run stopped early: the run's budget of 1 s ran out during step hang");
  });

  it('retries an errored step up to budget.max_retries', async () => {
    // A usage error: pytest ran and failed without a report. (A missing interpreter is configuration, not retried.)
    const { evidence } = await run(`version: 1
budget: { max_retries: 2 }
plan:
  - { id: unit, when: { always: true }, run: run_pytest, with: { args: [--no-such-pytest-option] } }
`);
    expect(evidence.steps[0]).toMatchObject({ status: 'error', attempts: 3 });
    expect(evidence.steps[0]!.reason).toMatch(/^pytest exited with code 4 and wrote no JUnit report\. /);
    expect(evidence.governance.budget).toMatchObject({ maxRetries: 2, retries: 2 });
    expect(evidence.metrics['budget.retries']).toBe(2);
    expect(evidence.audit.filter((event) => event.action === 'step.started').map((event) => event.data.attempt)).toEqual([1, 2, 3]);
  });

  it('stops at a missing interpreter without retrying: configuration, with evidence marked incomplete', async () => {
    const outDir = path.join(work.dir, 'missing-python');
    const policy = parsePolicy(
      `version: 1
budget: { max_retries: 2 }
plan:
  - { id: unit, when: { always: true }, run: run_pytest, with: { python: ./no-such-python } }
`,
      { path: 'inline.yml', sourceRef: null },
    );
    const running = orchestrate({
      repoDir: repo.dir,
      outDir,
      policy,
      change: { base: null, head: null, changedFiles: [], labels: [] },
      approvals: noApprovals,
      env: ENV,
    });
    const error = await running.then(
      () => undefined,
      (caught: unknown) => caught as { code: string; message: string },
    );
    expect(error?.code).toBe('TOOL_FAILED');
    // What the OS said: spawn's ENOENT, or the isolation wrapper's "failed to execute" where steps run in namespaces.
    expect(error?.message).toMatch(
      /^pytest could not be started: .*(ENOENT|No such file or directory)\. Check `with\.python` or `sandbox\.python` \(\.\/no-such-python\) or the PATH the step gets\. This is configuration: the step is not retried and the run exits 2\.$/,
    );
    const check = await verifyEvidence(outDir);
    expect(check.ok && check.evidence.complete).toBe(false);
    expect(check.ok && check.evidence.audit.filter((event) => event.action === 'step.started')).toHaveLength(1);
  });

  it('does not retry failing tests: a failure is an answer', async () => {
    const { evidence } = await run(`version: 1
budget: { max_retries: 2 }
plan:
  - { id: unit, when: { always: true }, run: run_pytest }
`);
    expect(evidence.steps[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(evidence.governance.budget.retries).toBe(0);
  });

  it('runs an allowlisted command and publishes its exit code', async () => {
    const { evidence, outDir } = await run(`version: 1
tools: { allowlist: [run_command], commands: { lint: [python3, -c, "import sys; print('3 problems'); sys.exit(3)"] } }
plan:
  - { id: lint, when: { always: true }, run: run_command, with: { command: lint } }
gate:
  - { id: lint-clean, metric: command.lint.exit_code, op: "==", value: 0 }
`);
    expect(evidence.steps[0]).toMatchObject({
      status: 'failed',
      reason: '"lint" exited with code 3.\n3 problems',
      metrics: { 'command.lint.exit_code': 3, 'command.failed': 1 },
      artifacts: ['reports/lint/output.log'],
    });
    expect(evidence.gate.reasons).toEqual(['Rule lint-clean failed: command.lint.exit_code is 3, expected == 0']);
    expect((await verifyEvidence(outDir)).ok).toBe(true);
  });

  it('passes with no matching step and says so', async () => {
    const { evidence, exitCode } = await run(`version: 1
plan:
  - { id: docs, when: { changed: ["docs/**"] }, run: run_pytest }
gate:
  - { id: no-failures, metric: pytest.failed, op: "==", value: 0 }
`);
    expect(exitCode).toBe(ExitCode.pass);
    expect(evidence.steps).toEqual([]);
    expect(evidence.gate.reasons).toEqual([NO_STEP_APPLIED]);
  });

  it('fails a change no step applied to when the policy has require_steps: true', async () => {
    const { evidence, exitCode } = await run(`version: 1
require_steps: true
plan:
  - { id: docs, when: { changed: ["docs/**"] }, run: run_pytest }
`);
    expect(exitCode).toBe(ExitCode.gateFailed);
    expect(evidence.gate).toMatchObject({
      verdict: 'fail',
      reasons: ['No step applied to this change, and the policy requires one (require_steps: true): nothing was tested.'],
    });
  });

  it('writes evidence marked incomplete when a run is aborted, and rethrows', async () => {
    const policy = parsePolicy('version: 1\nplan:\n  - { id: unit, when: { always: true }, run: run_pytest }\n', { path: 'inline.yml', sourceRef: null });
    const outDir = path.join(work.dir, 'aborted');
    const controller = new AbortController();
    controller.abort('SIGINT');
    await expect(
      orchestrate({
        repoDir: repo.dir,
        outDir,
        policy,
        change: { base: null, head: null, changedFiles: ['x.py'], labels: [] },
        approvals: noApprovals,
        env: ENV,
        signal: controller.signal,
      }),
    ).rejects.toThrow('Run interrupted (SIGINT) before step unit; not run: unit.');
    const check = await verifyEvidence(outDir);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.evidence).toMatchObject({
      complete: false,
      incompleteReason: 'Run interrupted (SIGINT) before step unit; not run: unit.',
      gate: { verdict: 'blocked', reasons: ['Run did not complete: Run interrupted (SIGINT) before step unit; not run: unit.'] },
    });
    expect(check.evidence.steps).toMatchObject([{ id: 'unit', status: 'skipped', reason: 'not run: the run was interrupted (SIGINT)' }]);
  });
});
