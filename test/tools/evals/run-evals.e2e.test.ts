import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noApprovals } from '../../../src/cli/cli-approval-source.js';
import { ExitCode } from '../../../src/constants.js';
import { verifyEvidence } from '../../../src/evidence/verify-evidence.js';
import { orchestrate } from '../../../src/orchestrator/orchestrate.js';
import { loadPolicyFile } from '../../../src/policy/load-policy.js';
import { ContainerSchema } from '../../../src/policy/schema.js';
import { ContainerSandbox } from '../../../src/sandbox/container-sandbox.js';
import { DEFAULT_SANDBOX_IMAGE } from '../../../src/sandbox/create-sandbox.js';
import { runEvalsTool } from '../../../src/tools/evals/run-evals.js';
import { requireDockerEngine } from '../../support/require-docker-engine.js';
import { PROJECTS_DIR, tempDir, tempGitRepo, type TempGitRepo } from '../../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

let repo: TempGitRepo;
let work: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  repo = await tempGitRepo('evals');
  work = await tempDir();
});
afterAll(async () => {
  await repo.cleanup();
  await work.cleanup();
});

describe('a run with run_evals', () => {
  it('judges the evals.* metrics with the gate rules and shows the cases in the summary, worst first', async () => {
    const outDir = path.join(work.dir, 'out');
    const outcome = await orchestrate({
      repoDir: repo.dir,
      outDir,
      policy: await loadPolicyFile(path.join(repo.dir, '.github/qualityfoundry.yml')),
      change: { base: null, head: null, changedFiles: ['qa/__init__.py'], labels: [] },
      approvals: noApprovals,
      env: ENV,
      runId: 'evals-run',
    });
    const { evidence } = outcome;
    expect(outcome.exitCode).toBe(ExitCode.gateFailed);
    expect(evidence.gate.reasons).toEqual([
      'Rule evals-pass failed: evals.pass_rate is 0.8, expected >= 0.9',
      'Rule qa-pass failed: evals.qa.pass_rate is 0.75, expected == 1',
    ]);
    expect(evidence.steps[0]).toMatchObject({ id: 'evals', tool: 'run_evals', status: 'passed', artifacts: ['reports/evals/evals.json'] });
    expect(evidence.metrics).toMatchObject({ 'evals.total': 5, 'evals.passed': 4, 'evals.failed': 1, 'evals.summary.pass_rate': 1 });
    expect(evidence.steps[0]!.evals!.cases).toEqual([
      {
        suite: 'qa',
        id: 'peru',
        status: 'failed',
        runs: 1,
        passes: 0,
        score: 0.5,
        input: 'What is the capital of Peru?',
        output: '{"city":"unknown"}',
        failures: ['json-path: $.city: expected "Lima", got "unknown"'],
        tokens: 0,
        costUsd: 0,
      },
    ]);
    // The evidence with its eval results validates and its artifacts match their digests.
    expect(await verifyEvidence(outDir)).toMatchObject({ ok: true });
    const summary = await readFile(outcome.summaryPath, 'utf8');
    expect(summary).toContain(
      [
        '### Evals',
        '',
        '| suite | passed | pass rate | pass^k | regressed / fixed | failed | vetoed | skipped | tokens |',
        '|---|---|---|---|---|---|---|---|---|',
        '| `qa` | 3/4 | 0.75 | 0.75 | — | 1 | 0 | 0 | 0 |',
        '| `summary` | 1/1 | 1 | 1 | — | 0 | 0 | 0 | 0 |',
        '',
        '| status | case | input | expected | base output | head output | failed assertion |',
        '|---|---|---|---|---|---|---|',
        '| ❌ failed | `qa/peru` | `What is the capital of Peru?` | — | — | `{"city":"unknown"}` | json-path: $.city: expected "Lima", got "unknown" |',
      ].join('\n'),
    );
  });
});

describe('run_evals in the container sandbox', () => {
  const docker = new Docker();
  it('hands each case to the target on stdin inside the container, with the same results as on the host', async () => {
    await requireDockerEngine(docker);
    const { dir, cleanup } = await tempDir();
    try {
      const run = await runEvalsTool.run(runEvalsTool.input.parse({}), {
        // The fixture folder in place: the container's user can read it (a mkdtemp copy is 0700), and the targets write nothing.
        repoDir: path.join(PROJECTS_DIR, 'evals'),
        stepDir: path.join(dir, 'step'),
        sandbox: new ContainerSandbox({ docker, settings: ContainerSchema.parse({ image: DEFAULT_SANDBOX_IMAGE }) }),
        env: ENV,
        timeoutMs: 300_000,
        maxOutputBytes: 65_536,
        commands: {},
      });
      expect(run.metrics).toMatchObject({ 'evals.total': 5, 'evals.passed': 4, 'evals.qa.pass_rate': 0.75 });
      expect(run.evals!.cases.map((entry) => [entry.id, entry.output])).toEqual([['peru', '{"city":"unknown"}']]);
    } finally {
      await cleanup();
    }
  });
});
