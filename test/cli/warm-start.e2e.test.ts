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

/** How qf is started: from source, or as installed (bin/qf.js, which starts the Python from dist/early-start.cjs). */
const ENTRY_POINTS = {
  source: ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/index.ts')],
  bin: [path.join(REPO_ROOT, 'bin/qf.js')],
} as const;

/** Runs `qf` through its entry point with its own TMPDIR; returns what it left there besides tsx's cache. */
async function qfEntryPoint(args: string[], env: Record<string, string>, entry: keyof typeof ENTRY_POINTS = 'source') {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-warm-e2e-'));
  try {
    const run = await execa(process.execPath, [...ENTRY_POINTS[entry], ...args], { env: { ...env, TMPDIR: tmp }, extendEnv: false, reject: false, cwd: REPO_ROOT, timeout: 60_000 });
    const leftovers = (await readdir(tmp)).filter((name) => name.startsWith('qf-'));
    return { ...run, leftovers };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
afterAll(async () => {
  for (const repo of repos) await repo.cleanup();
});

describe('qf run through its entry point', () => {
  it.each(['source', 'bin'] as const)('hands the pytest step to the Python started ahead, which sees the step environment and no credentials (%s)', async (entry) => {
    const repo = await tempGitRepo('passing');
    repos.push(repo);
    await writeFile(path.join(repo.dir, 'tests/test_environment.py'), SECRETS_ABSENT);
    await runGit(repo.dir, ['add', '-A']);
    await runGit(repo.dir, ['commit', '-qm', 'environment test']);
    const out = path.join(path.dirname(repo.dir), 'out');

    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8', GITHUB_TOKEN: 'qf-leak-token', MY_API_KEY: 'qf-leak-key' };
    const run = await qfEntryPoint(['run', '--repo', repo.dir, '--out', out], env, entry);

    expect(run.stdout.split('\n')[0]).toMatch(/^PASS · \d+ passed, 0 failed/);
    expect(run.exitCode).toBe(0);
    expect(run.leftovers).toEqual([]);
    const evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
    expect(evidence.steps[0]?.sandbox?.warmStart).toEqual({ used: true });
    expect(evidence.metrics['pytest.failed']).toBe(0);
  });

  it('ends the Python started ahead when the run waits for approval, leaving nothing behind', async () => {
    const repo = await tempGitRepo('approval');
    repos.push(repo);
    const out = path.join(path.dirname(repo.dir), 'out');
    const run = await qfEntryPoint(['run', '--repo', repo.dir, '--out', out], { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' });
    expect(run.exitCode).toBe(3);
    // Its private folders are removed only after its process group was killed and it exited.
    expect(run.leftovers).toEqual([]);
  });

  it('still names a missing repository, and exits, when the Python started ahead cannot start there', async () => {
    const missing = path.join(REPO_ROOT, 'no-such-repository-qf');
    const run = await qfEntryPoint(['run', '--repo', missing], { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' });
    expect(run.stderr).toBe(`qf: Repository folder ${missing} does not exist; expected the path of a git checkout (--repo DIR).`);
    expect(run.exitCode).toBe(2);
    expect(run.leftovers).toEqual([]);
  });
});
