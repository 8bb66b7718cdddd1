import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { Evidence } from '../../src/evidence/schema.js';
import { REPO_ROOT, runGit, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const SECRETS_ABSENT = `import os

def test_no_credential_reaches_the_tests():
    assert "GITHUB_TOKEN" not in os.environ
    assert "MY_API_KEY" not in os.environ
    assert not any(value.startswith("qf-leak-") for value in os.environ.values())
`;

const repos: TempGitRepo[] = [];
afterAll(async () => {
  for (const repo of repos) await repo.cleanup();
});

describe('qf run through its entry point', () => {
  it('hands the pytest step to the Python started ahead, which sees the step environment and no credentials', async () => {
    const repo = await tempGitRepo('passing');
    repos.push(repo);
    await writeFile(path.join(repo.dir, 'tests/test_environment.py'), SECRETS_ABSENT);
    await runGit(repo.dir, ['add', '-A']);
    await runGit(repo.dir, ['commit', '-qm', 'environment test']);
    const out = path.join(path.dirname(repo.dir), 'out');

    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8', GITHUB_TOKEN: 'qf-leak-token', MY_API_KEY: 'qf-leak-key' };
    const run = await execa(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/index.ts'), 'run', '--repo', repo.dir, '--out', out], { env, extendEnv: false, reject: false, cwd: REPO_ROOT });

    expect(run.stdout.split('\n')[0]).toMatch(/^PASS · \d+ passed, 0 failed/);
    expect(run.exitCode).toBe(0);
    const evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
    expect(evidence.steps[0]?.sandbox?.warmStart).toEqual({ used: true });
    expect(evidence.metrics['pytest.failed']).toBe(0);
  });

  it('still names a missing repository, and exits, when the Python started ahead cannot start there', async () => {
    const missing = path.join(REPO_ROOT, 'no-such-repository-qf');
    const run = await execa(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/index.ts'), 'run', '--repo', missing], { reject: false, cwd: REPO_ROOT, timeout: 30_000 });
    expect(run.stderr).toBe(`qf: Repository folder ${missing} does not exist; expected the path of a git checkout (--repo DIR).`);
    expect(run.exitCode).toBe(2);
  });
});
