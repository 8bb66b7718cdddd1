import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

// The `timeout` fixture's test starts a `sleep` and hangs; here a second step follows it, and the
// run is interrupted (as Ctrl-C does, through the CLI's abort signal) once pytest has printed.
const POLICY = `version: 1
sandbox: { timeout_seconds: 120 }
tools: { allowlist: [run_pytest, run_command], commands: { lint: [python3, -c, "print('lint')"] } }
plan:
  - { id: unit, when: { always: true }, run: run_pytest }
  - { id: lint, when: { always: true }, run: run_command, with: { command: lint } }
`;

let repo: TempGitRepo;
beforeAll(async () => {
  repo = await tempGitRepo('timeout');
  await writeFile(path.join(repo.dir, 'marker.txt'), '3600.424242\n');
  await writeFile(path.join(repo.dir, '..', 'policy.yml'), POLICY);
});
afterAll(async () => {
  await repo.cleanup();
});

it('an interrupted run says which step was interrupted after how long, what was not run, and where the evidence is', async () => {
  const out = path.join(repo.dir, '..', 'out');
  const interrupt = new AbortController();
  let stdout = '';
  let stderr = '';
  const code = await main(['run', '--repo', repo.dir, '--policy', path.join(repo.dir, '..', 'policy.yml'), '--out', out], {
    stdout: (text) => (stdout += text),
    stderr: (text) => {
      stderr += text;
      if (text.includes('… unit running') && !interrupt.signal.aborted) interrupt.abort('SIGINT');
    },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' },
    cwd: repo.dir,
    signal: interrupt.signal,
    progressIntervalMs: 300,
  });
  expect(code).toBe(ExitCode.interrupted);
  expect(stdout).toBe('');
  const evidencePath = path.join(out, 'evidence.json');
  expect(stderr).toMatch(
    new RegExp(
      `^qf: Run interrupted \\(SIGINT\\) during step unit after \\d+\\.\\d s; not run: lint\\.\\nEvidence \\(marked incomplete\\): ${evidencePath.replace(/[.]/g, '\\.')}\\nSummary: .+summary\\.md$`,
      'm',
    ),
  );

  const evidence = JSON.parse(await readFile(evidencePath, 'utf8')) as Evidence;
  expect(evidence.complete).toBe(false);
  expect(evidence.steps.map((step) => [step.id, step.status])).toEqual([
    ['unit', 'interrupted'],
    ['lint', 'skipped'],
  ]);
  expect(evidence.steps[0]!.reason).toMatch(/^interrupted \(SIGINT\) after \d+\.\d s; its result is not used$/);
  expect(evidence.steps[1]!.reason).toBe('not run: the run was interrupted (SIGINT)');
  // The interrupted step's time counts.
  expect(evidence.metrics['budget.seconds_used']).toBeGreaterThan(0);
  expect(evidence.metrics['budget.seconds_used']).toBe(evidence.steps[0]!.durationMs / 1000);

  const summary = await readFile(path.join(out, 'summary.md'), 'utf8');
  expect(summary).toMatch(/Run did not complete: Run interrupted \(SIGINT\) during step unit after \d+\.\d s; not run: lint\./);
  expect(summary).toMatch(/\| `unit` \| run_pytest \| interrupted \|/);
  expect(summary).toMatch(/\| `lint` \| run_command \| skipped \|/);
  expect(summary).not.toContain('No step matched');
});
