import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import { tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

async function qf(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: ENV, cwd });
  return { code, stdout, stderr };
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});
async function fixture(name: string): Promise<TempGitRepo> {
  const repo = await tempGitRepo(name);
  cleanups.push(repo.cleanup);
  return repo;
}

describe('--json prints exactly one JSON document on stdout', () => {
  it('for a broken policy: the error with every problem located', async () => {
    const repo = await fixture('broken-policy');
    const result = await qf(['run', '--repo', repo.dir, '--out', path.join(repo.dir, '..', 'out'), '--json'], repo.dir);
    expect(result.code).toBe(ExitCode.badInput);
    const document = JSON.parse(result.stdout); // the whole of stdout is one document
    expect(document).toMatchObject({ exitCode: 2, error: { code: 'POLICY_INVALID', message: expect.stringMatching(/^Policy .+ has \d+ problems?:$/) } });
    expect(document.error.problems.length).toBeGreaterThan(0);
    for (const problem of document.error.problems) {
      expect(problem).toEqual({
        file: expect.any(String),
        line: expect.any(Number),
        column: expect.any(Number),
        path: expect.any(String),
        message: expect.any(String),
      });
    }
    expect(document.error.problems[0]).toMatchObject({ line: 3, path: 'sandbox.timeout_seconds' });
    // The person at the terminal still reads it on stderr.
    expect(result.stderr).toContain('sandbox.timeout_seconds');
  });

  it('for a missing repository', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const result = await qf(['run', '--repo', path.join(dir, 'nothing-here'), '--json'], dir);
    expect(result.code).toBe(ExitCode.badInput);
    expect(JSON.parse(result.stdout)).toEqual({ exitCode: 2, error: { code: 'BAD_INPUT', message: expect.stringContaining('does not exist'), problems: [] } });
  });

  it('for an unknown flag, with the flag it probably meant', async () => {
    const result = await qf(['run', '--repo', '.', '--bsae', 'HEAD~1', '--json'], process.cwd());
    expect(result.code).toBe(ExitCode.badInput);
    expect(JSON.parse(result.stdout).error).toEqual({ code: 'USAGE', message: 'unknown flag --bsae; did you mean --base?', problems: [] });
  });

  it('for store commands that fail', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const result = await qf(['checkpoint', 'list', '--repo', 'o/n', '--db', path.join(dir, 'none.db'), '--json'], dir);
    expect(result.code).toBe(ExitCode.badInput);
    expect(JSON.parse(result.stdout).error.code).toBe('BAD_INPUT');
  });

  it('for a run that completes', async () => {
    const repo = await fixture('passing');
    const result = await qf(['run', '--repo', repo.dir, '--out', path.join(repo.dir, '..', 'out'), '--json'], repo.dir);
    expect(result.code).toBe(ExitCode.pass);
    expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'pass', exitCode: 0 });
  });
});

describe('unknown flags', () => {
  it.each([
    [['run', '--bsae', 'main'], 'unknown flag --bsae; did you mean --base?'],
    [['run', '--rpeo', '.'], 'unknown flag --rpeo; did you mean --repo?'],
    [['report', '--sinse', '2025-01-01'], 'unknown flag --sinse; did you mean --since?'],
    [['run', '--frobnicate'], 'unknown flag --frobnicate\n'],
  ])('qf %j says %j and exits 2', async (argv, said) => {
    const result = await qf(argv, process.cwd());
    expect(result.code).toBe(ExitCode.badInput);
    expect(result.stderr).toContain(said);
    expect(result.stderr).toMatch(/[Uu]sage: qf (run|report)/);
    expect(result.stdout).toBe('');
  });
});
