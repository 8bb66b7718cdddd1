import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
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

/** Runs the installed `qf` (bin/qf.js → dist/cli.js) with its own TMPDIR; returns what it left there. */
async function qfBin(args: string[], env: Record<string, string>) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-bin-e2e-'));
  try {
    const run = await execa(process.execPath, [path.join(REPO_ROOT, 'bin/qf.js'), ...args], {
      env: { ...env, TMPDIR: tmp },
      extendEnv: false,
      reject: false,
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    return { ...run, leftovers: await readdir(tmp) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

describe('qf run through bin/qf.js', () => {
  it('runs pytest with the filtered environment, writes version-2 evidence and leaves nothing in TMPDIR', async () => {
    const repo = await tempGitRepo('passing');
    repos.push(repo);
    await writeFile(path.join(repo.dir, 'tests/test_environment.py'), SECRETS_ABSENT);
    await runGit(repo.dir, ['add', '-A']);
    await runGit(repo.dir, ['commit', '-qm', 'environment test']);
    const out = path.join(path.dirname(repo.dir), 'out');

    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8', GITHUB_TOKEN: 'qf-leak-token', MY_API_KEY: 'qf-leak-key' };
    const run = await qfBin(['run', '--repo', repo.dir, '--out', out], env);

    expect(run.stdout.split('\n')[0]).toMatch(/^PASS · \d+ passed, 0 failed/);
    expect(run.exitCode).toBe(0);
    expect(run.leftovers).toEqual([]);
    const evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
    expect(evidence.schemaVersion).toBe(2);
    expect(evidence.metrics['pytest.failed']).toBe(0);
    expect(evidence.steps[0]?.sandbox).toMatchObject({ mode: 'subprocess', exitCode: 0, timedOut: false, droppedBytes: 0 });
  });

  it('names a missing repository and exits 2', async () => {
    const missing = path.join(os.tmpdir(), 'qf-no-such-repo');
    const run = await qfBin(['run', '--repo', missing], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(missing);
  });
});
