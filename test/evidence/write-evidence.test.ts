import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QF_VERSION } from '../../src/constants.js';
import { indexArtifacts } from '../../src/evidence/index-artifacts.js';
import { dependencyFingerprint, gitRepro } from '../../src/evidence/repro.js';
import { parseVersionProbe } from '../../src/tools/pytest-version-probe.js';
import { sha256Hex } from '../../src/util/canonical-json.js';
import { REPO_ROOT, runGit, tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

describe('QF_VERSION', () => {
  it("equals package.json's version", async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(QF_VERSION).toBe(pkg.version);
  });
});

describe('repro', () => {
  let repo: TempGitRepo;
  beforeAll(async () => {
    repo = await tempGitRepo('passing');
  });
  afterAll(async () => {
    await repo.cleanup();
  });

  it('records sha, branch and the dirty flag of tracked files', async () => {
    expect(await gitRepro(repo.dir)).toEqual({ gitSha: repo.head, branch: 'main', dirty: false });
    await writeFile(path.join(repo.dir, 'untracked.txt'), 'x');
    expect((await gitRepro(repo.dir)).dirty).toBe(false);
    await writeFile(path.join(repo.dir, 'pricing.py'), '\n', { flag: 'a' });
    expect((await gitRepro(repo.dir)).dirty).toBe(true);
    await runGit(repo.dir, ['checkout', '--', 'pricing.py']);
  });

  it('reports a detached HEAD as HEAD, a repository without commits as no sha, and no repository as unknown', async () => {
    await runGit(repo.dir, ['checkout', '-q', '--detach']);
    expect(await gitRepro(repo.dir)).toEqual({ gitSha: repo.head, branch: 'HEAD', dirty: false });
    await runGit(repo.dir, ['checkout', '-q', 'main']);
    const scratch = await tempDir();
    try {
      await runGit(scratch.dir, ['init', '-q', '-b', 'trunk']);
      expect(await gitRepro(scratch.dir)).toEqual({ gitSha: null, branch: 'trunk', dirty: false });
      const outside = path.join(scratch.dir, 'missing');
      expect(await gitRepro(outside)).toEqual({ gitSha: null, branch: null, dirty: null });
    } finally {
      await scratch.cleanup();
    }
  });

  it('fingerprints tracked lockfiles only, so equal pins give equal digests', async () => {
    const empty = await dependencyFingerprint(repo.dir);
    expect(empty).toEqual({ sha256: sha256Hex('[]'), files: [] });
    await mkdir(path.join(repo.dir, 'deps'), { recursive: true });
    await writeFile(path.join(repo.dir, 'requirements-dev.txt'), 'pytest==9.0.3\n');
    await writeFile(path.join(repo.dir, 'deps/poetry.lock'), '# lock\n');
    await writeFile(path.join(repo.dir, 'notes.txt'), 'not a lockfile\n');
    expect((await dependencyFingerprint(repo.dir)).files).toEqual([]); // untracked: not part of the commit
    await runGit(repo.dir, ['add', '-A']);
    const tracked = await dependencyFingerprint(repo.dir);
    expect(tracked.files).toEqual([
      { path: 'deps/poetry.lock', sha256: sha256Hex('# lock\n') },
      { path: 'requirements-dev.txt', sha256: sha256Hex('pytest==9.0.3\n') },
    ]);
    expect(tracked.sha256).not.toBe(empty.sha256);
  });

  it('reads the version probe output', () => {
    expect(parseVersionProbe('3.11.7\n9.0.3\n')).toEqual({ python: '3.11.7', pytest: '9.0.3' });
    expect(parseVersionProbe('3.11.7\n\n')).toEqual({ python: '3.11.7', pytest: null });
  });
});

describe('indexArtifacts', () => {
  let repo: TempGitRepo;
  beforeAll(async () => {
    repo = await tempGitRepo('passing');
  });
  afterAll(async () => {
    await repo.cleanup();
  });

  it('lists every file with size and sha256, sorted, without the excluded ones', async () => {
    const dir = path.join(path.dirname(repo.dir), 'evidence');
    await mkdir(path.join(dir, 'reports/unit'), { recursive: true });
    await writeFile(path.join(dir, 'reports/unit/junit.xml'), '<testsuites/>');
    await writeFile(path.join(dir, 'summary.md'), '# ok\n');
    await writeFile(path.join(dir, 'evidence.json'), '{}');
    expect(await indexArtifacts(dir, ['evidence.json'])).toEqual([
      { path: 'reports/unit/junit.xml', size: 13, sha256: sha256Hex('<testsuites/>') },
      { path: 'summary.md', size: 5, sha256: sha256Hex('# ok\n') },
    ]);
  });
});
