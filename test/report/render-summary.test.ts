import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noApprovals } from '../../src/cli/cli-approval-source.js';
import { orchestrate } from '../../src/orchestrator/orchestrate.js';
import { parsePolicy } from '../../src/policy/load-policy.js';
import { detectProcessIsolation, type IsolationMechanism } from '../../src/sandbox/process-isolation.js';
import { SubprocessSandbox } from '../../src/sandbox/subprocess-sandbox.js';
import { tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

let repo: TempGitRepo;
let work: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  repo = await tempGitRepo('passing');
  work = await tempDir();
});
afterAll(async () => {
  await repo.cleanup();
  await work.cleanup();
});

/** A real run of real pytest in the subprocess sandbox with the given isolation; returns summary.md. */
async function summaryWith(only: IsolationMechanism): Promise<string> {
  const outDir = path.join(work.dir, only.replace(/\W/g, '-'));
  const { summaryPath, evidence } = await orchestrate({
    repoDir: repo.dir,
    outDir,
    policy: parsePolicy('version: 1\nplan:\n  - { id: unit, when: { always: true }, run: run_pytest }\n', { path: 'inline.yml', sourceRef: null }),
    change: { base: null, head: null, changedFiles: [], labels: [] },
    approvals: noApprovals,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
    runId: `summary-${only}`,
    createSandbox: async () => new SubprocessSandbox({ isolation: detectProcessIsolation({ only }) }),
  });
  expect(evidence.steps[0]!.sandbox?.isolation?.mechanism).toBe(only);
  return readFile(summaryPath, 'utf8');
}

describe('summary.md on process isolation', () => {
  it('says plainly when steps ran without process isolation, and what that exposes', async () => {
    const summary = await summaryWith('none');
    expect(summary).toContain(
      '- ⚠ `unit` ran without process isolation. No process isolation: neither user namespaces (unshare --user) nor, as root, PID namespaces are available here. ' +
        'Tested code can read the environment of qf and its parent processes through /proc (every credential they hold), and a process that leaves its process group (setsid) can outlive the step. ' +
        'Use sandbox.mode "container" on such runners.',
    );
  });

  it('says nothing of the kind when they ran isolated', async () => {
    expect(await summaryWith('user+pid namespace')).not.toContain('process isolation');
  });
});
