import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confineRealPath } from '../../src/sandbox/confine-path.js';
import { tempDir } from '../support/temp-git-repo.js';

// A real folder with real links: the repository is hostile and may commit any of them.
let work: { dir: string; cleanup: () => Promise<void> };
let repo: string;
beforeAll(async () => {
  work = await tempDir();
  repo = path.join(work.dir, 'repo');
  await mkdir(path.join(repo, 'tests/unit'), { recursive: true });
  await mkdir(path.join(work.dir, 'outside'), { recursive: true });
  await symlink('/', path.join(repo, 'root-link'));
  await symlink('../outside', path.join(repo, 'sibling-link'));
  await symlink('tests/unit', path.join(repo, 'inner-link'));
  await symlink('/nonexistent-target', path.join(repo, 'dangling-link'));
});
afterAll(async () => {
  await work.cleanup();
});

describe('confineRealPath', () => {
  it.each([
    ['.', '.'],
    ['tests', 'tests'],
    ['tests/unit/test_x.py', 'tests/unit/test_x.py'], // not there yet: pytest says so, not qf
    ['inner-link', 'tests/unit'],
    ['inner-link/test_y.py', 'tests/unit/test_y.py'],
  ])('accepts %s, resolved to %s', async (relative, expected) => {
    await expect(confineRealPath(repo, relative, 'test path')).resolves.toBe(path.join(repo, expected));
  });

  it.each([
    ['../outside', 'is outside the repository'],
    ['/etc', 'is outside the repository'],
    ['tests/../../outside', 'is outside the repository'],
    ['root-link', 'resolves to /, outside the repository'],
    ['root-link/etc/passwd', 'resolves to /etc/passwd, outside the repository'],
    ['sibling-link', 'resolves to WORK/outside, outside the repository'],
    ['dangling-link', 'resolves to /nonexistent-target, outside the repository'],
    ['dangling-link/deeper', 'resolves to /nonexistent-target/deeper, outside the repository'],
  ])('refuses %s', async (relative, message) => {
    await expect(confineRealPath(repo, relative, 'test path')).rejects.toThrow(`test path "${relative}" ${message.replace('WORK', work.dir)}`);
  });

  it('resolves paths against the working directory it is given', async () => {
    await expect(confineRealPath(repo, 'unit', 'test path', path.join(repo, 'tests'))).resolves.toBe(path.join(repo, 'tests/unit'));
    await expect(confineRealPath(repo, '../../x', 'test path', path.join(repo, 'tests'))).rejects.toThrow('test path "../../x" is outside the repository');
  });
});
