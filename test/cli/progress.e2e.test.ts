import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import { tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

// test/fixtures/projects/silent-step: two quick tests, then one that prints nothing until the file
// QF_SENTINEL names exists. The host creates it only when qf's progress says the step is running
// with 2 tests done: without a progress timer the step would never end (the test gives up after 90 s).
let repo: TempGitRepo;
beforeAll(async () => {
  repo = await tempGitRepo('silent-step');
});
afterAll(async () => {
  await repo.cleanup();
});

async function runUntil(isTTY: boolean, trigger: RegExp): Promise<{ code: number; stderr: string }> {
  const sentinel = path.join(repo.dir, '..', `sentinel-${isTTY ? 'tty' : 'log'}`);
  let stderr = '';
  const code = await main(['run', '--repo', repo.dir, '--out', path.join(repo.dir, '..', `out-${isTTY}`)], {
    stdout: () => undefined,
    stderr: (text) => {
      stderr += text;
      if (trigger.test(stderr)) writeFileSync(sentinel, '');
    },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8', QF_SENTINEL: sentinel },
    cwd: repo.dir,
    isTTY,
    progressIntervalMs: 200,
  });
  return { code, stderr };
}

/** What the status line starts with: back to the line's start, erase it (built, so no control character sits in a regex literal). */
const CLEAR = `\r${String.fromCharCode(27)}[2K`.replace(/[[\]]/g, '\\$&');

describe('progress while a step runs', () => {
  it('is printed on a timer while the step is silent, with the tests done so far', async () => {
    const run = await runUntil(false, /^ {2}… unit running, \d+ s, 2 tests done$/m);
    expect(run.code, run.stderr).toBe(ExitCode.pass);
    const lines = run.stderr.split('\n');
    const reported = lines.findIndex((line) => /^ {2}… unit running, \d+ s, 2 tests done$/.test(line));
    expect(reported).toBeGreaterThan(lines.indexOf('▶ unit (run_pytest)'));
    expect(reported).toBeLessThan(lines.findIndex((line) => line.startsWith('✔ unit passed in ')));
    expect(run.stderr).not.toContain('\r');
  });

  it('is one status line rewritten in place on a terminal, cleared when the step ends', async () => {
    const run = await runUntil(true, new RegExp(`${CLEAR}… unit running, \\d+ s, 2 tests done$`));
    expect(run.code, run.stderr).toBe(ExitCode.pass);
    expect(run.stderr).not.toMatch(/^ {2}… unit running/m);
    expect(run.stderr).toMatch(new RegExp(`${CLEAR}… unit running, \\d+ s, [23] tests done${CLEAR}✔ unit passed in [\\d.]+ s\\n$`));
  });
});
