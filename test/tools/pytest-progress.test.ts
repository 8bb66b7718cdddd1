import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PytestProgress } from '../../src/tools/pytest-progress.js';
import { PROJECTS_DIR } from '../support/temp-git-repo.js';

function count(chunks: string[]): number {
  const progress = new PytestProgress();
  for (const chunk of chunks) progress.onStdout(chunk);
  return progress.testsDone;
}

/** Real pytest output of test/fixtures/projects/junit-mix (12 tests), as qf runs it, then with -v. */
async function pytestOutput(extra: string[]): Promise<string> {
  const run = await execa('python3', ['-m', 'pytest', '-p', 'no:cacheprovider', '-o', 'console_output_style=classic', '-rN', ...extra], {
    cwd: path.join(PROJECTS_DIR, 'junit-mix'),
    env: { PYTHONDONTWRITEBYTECODE: '1' },
    reject: false,
    stdin: 'ignore',
  });
  return run.stdout;
}

describe('PytestProgress', () => {
  it("counts every test of a real run, in qf's output style and with -v, however the output is cut", async () => {
    for (const output of [await pytestOutput([]), await pytestOutput(['-v'])]) {
      expect(count([output])).toBe(12);
      // One character at a time: a chunk may end anywhere, even inside the file name.
      expect(count([...output])).toBe(12);
    }
  });

  it('counts a progress line while it is still being written', () => {
    expect(count(['collected 7 items\n\ntests/test_a.py ..', 'F.s'])).toBe(5);
  });

  it('ignores lines that are not test results', () => {
    const output = [
      'rootdir: /repo/tests.py x',
      'tests/test_a.py:7: AssertionError',
      'FAILED tests/test_a.py::test_x - assert False',
      'E   ....',
      '=== 1 failed, 2 passed in 0.1s ===',
    ].join('\n');
    expect(count([output])).toBe(0);
  });
});
