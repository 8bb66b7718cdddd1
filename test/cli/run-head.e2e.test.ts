import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { runGit, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

async function qf(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: ENV, cwd });
  return { code, stdout, stderr };
}

// History of the `passing` fixture: A (its commit) ← B adds a passing test ← C (HEAD) adds a
// failing one; the work tree on top breaks B's test without committing. `--head B` must test B.
let repo: TempGitRepo;
const sha: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };

beforeAll(async () => {
  repo = await tempGitRepo('passing');
  sha.a = repo.head;
  await writeFile(path.join(repo.dir, 'tests/test_b.py'), 'def test_added_in_b():\n    assert True\n');
  await runGit(repo.dir, ['add', '-A']);
  await runGit(repo.dir, ['commit', '-q', '-m', 'B']);
  sha.b = (await runGit(repo.dir, ['rev-parse', 'HEAD'])).trim();
  await writeFile(path.join(repo.dir, 'tests/test_c.py'), 'def test_only_at_c():\n    assert False, "exists only at C"\n');
  await runGit(repo.dir, ['add', '-A']);
  await runGit(repo.dir, ['commit', '-q', '-m', 'C']);
  sha.c = (await runGit(repo.dir, ['rev-parse', 'HEAD'])).trim();
  await writeFile(path.join(repo.dir, 'tests/test_b.py'), 'def test_added_in_b():\n    assert False, "uncommitted"\n');
});
afterAll(async () => {
  await repo.cleanup();
});

describe('qf run --head', () => {
  it('runs the steps on a clean checkout of that commit, records resolved SHAs, says so, and removes the checkout', async () => {
    const out = path.join(repo.dir, '..', 'out');
    const run = await qf(['run', '--repo', repo.dir, '--out', out, '--base', 'HEAD~2', '--head', 'HEAD~1'], repo.dir);
    expect(run.code, run.stdout + run.stderr).toBe(ExitCode.pass);
    const evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
    // B's tests ran as committed: not C's failing test, not the work tree's edit.
    expect(evidence.metrics).toMatchObject({ 'pytest.total': 7, 'pytest.failed': 0 });
    expect(evidence.change).toMatchObject({ base: sha.a, head: sha.b, changedFiles: ['tests/test_b.py'], checkout: { base: 'HEAD~2', head: 'HEAD~1' } });
    expect(evidence.repro).toMatchObject({ gitSha: sha.b, dirty: false });
    const said = `Tested commit ${sha.b.slice(0, 12)} (--head HEAD~1) in a clean temporary checkout; changes since ${sha.a.slice(0, 12)} (--base HEAD~2).`;
    expect(run.stdout).toContain(said);
    expect(await readFile(path.join(out, 'summary.md'), 'utf8')).toContain(said);
    // The checkout is gone, and git has forgotten it.
    expect((await runGit(repo.dir, ['worktree', 'list', '--porcelain'])).match(/^worktree /gm)).toHaveLength(1);
    expect((await readdir(os.tmpdir())).filter((name) => name.startsWith('qf-head-'))).toEqual([]);
  });

  it('is an error without --base, and for a ref that names no commit', async () => {
    const alone = await qf(['run', '--repo', repo.dir, '--head', 'HEAD~1'], repo.dir);
    expect(alone.code).toBe(ExitCode.badInput);
    expect(alone.stderr).toContain('qf run: --head needs --base');
    const unknown = await qf(['run', '--repo', repo.dir, '--base', 'HEAD~1', '--head', 'no-such-branch'], repo.dir);
    expect(unknown.code).toBe(ExitCode.badInput);
    expect(unknown.stderr).toContain(`qf: --head no-such-branch: no such commit in ${repo.dir}`);
  });

  it('records the resolved base SHA when only --base is given (the work tree is tested)', async () => {
    const out = path.join(repo.dir, '..', 'out-base');
    const run = await qf(['run', '--repo', repo.dir, '--out', out, '--base', 'HEAD~2'], repo.dir);
    expect(run.code).toBe(ExitCode.gateFailed); // C's test and the uncommitted edit both fail
    const evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
    expect(evidence.change).toMatchObject({ base: sha.a, head: null });
    expect(evidence.change.checkout).toBeUndefined();
  });
});
