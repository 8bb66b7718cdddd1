import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { leakedProcesses } from './support/leaked-processes.js';
import { REPO_ROOT } from './support/temp-git-repo.js';

// The suite's leak check, run for real on test/fixtures/leak-check: a file that leaves a temporary
// folder or a process behind fails the run, a tidy one passes.
it('fails a test file that leaks a temporary folder or a process, and passes one that does not', async () => {
  const run = await execa(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/fixtures/leak-check/vitest.config.ts', '--reporter', 'verbose'],
    {
      cwd: REPO_ROOT,
      reject: false,
      stdin: 'ignore',
      all: true,
      env: { NO_COLOR: '1', FORCE_COLOR: '0' },
    },
  );
  const output = run.all ?? '';
  expect(run.exitCode, output).toBe(1);
  expect(output).toMatch(/FAIL\s+test\/fixtures\/leak-check\/leaks\.fixture\.ts/);
  expect(output).not.toMatch(/FAIL\s+test\/fixtures\/leak-check\/tidy\.fixture\.ts/);
  expect(output).toMatch(/temporary folder or file left behind: \S+\/leaks\.fixture\.ts-\w+\/qf-forgotten-\w+/);
  expect(output).toMatch(/process left running: pid \d+ \(a child of the test worker\): sleep 3600/);
  // The check removed both: nothing of the nested run is left for this file's own check.
  expect(leakedProcesses(process.pid, process.env.TMPDIR!)).toEqual([]);
});
