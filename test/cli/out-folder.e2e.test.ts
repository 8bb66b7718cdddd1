import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import { runGit, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };
let repo: TempGitRepo;

beforeAll(async () => {
  repo = await tempGitRepo('passing');
});
afterAll(async () => {
  await repo.cleanup();
});

it("keeps the default evidence folder DIR/qf-out out of the user's git status, run after run", async () => {
  const io = { stdout: () => undefined, stderr: () => undefined, env: ENV, cwd: repo.dir };
  for (let run = 0; run < 2; run++) {
    expect(await main(['run', '--repo', repo.dir], io)).toBe(ExitCode.pass);
    expect(await runGit(repo.dir, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
  }
  expect(await readFile(path.join(repo.dir, 'qf-out', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  // The second run planned from the same files: the evidence folder was never part of the change.
  const evidence = JSON.parse(await readFile(path.join(repo.dir, 'qf-out', 'evidence.json'), 'utf8'));
  expect(evidence.change.changedFiles.filter((file: string) => file.startsWith('qf-out'))).toEqual([]);
});
