import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { DEFAULT_SANDBOX_IMAGE } from '../../src/sandbox/create-sandbox.js';
import { requireDockerEngine } from '../support/require-docker-engine.js';
import { runGit, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

let repo: TempGitRepo;
beforeAll(async () => {
  await requireDockerEngine(new Docker());
  repo = await tempGitRepo('sharded');
  const policy = path.join(repo.dir, '.github/qualityfoundry.yml');
  const text = await readFile(policy, 'utf8');
  await writeFile(
    policy,
    text.replace(
      'sandbox: { mode: subprocess, timeout_seconds: 120 }',
      `sandbox: { mode: container, timeout_seconds: 120, container: { image: "${DEFAULT_SANDBOX_IMAGE}" } }`,
    ),
  );
  await runGit(repo.dir, ['commit', '-q', '-am', 'container sandbox']);
});
afterAll(() => repo?.cleanup());

describe('qf run --shard in the container sandbox', () => {
  it('collects inside the container (no network, read-only source) and runs only its part there', async () => {
    const out = path.join(path.dirname(repo.dir), 'out');
    let stderr = '';
    const code = await main(['run', '--repo', repo.dir, '--out', out, '--shard', '1/3'], {
      stdout: () => undefined,
      stderr: (text) => (stderr += text),
      env: BASE_ENV,
      cwd: repo.dir,
    });
    expect(code, stderr).toBe(ExitCode.pass);
    const evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
    const step = evidence.steps[0]!;
    expect(step.sandbox?.mode).toBe('container');
    expect(step.selection).toMatchObject({ shard: { index: 1, total: 3 }, collected: 15 });
    const selected = (await readFile(path.join(out, step.selection!.list), 'utf8')).split('\n').filter(Boolean);
    expect(selected.length).toBe(step.selection!.selected);
    expect(evidence.metrics['pytest.total']).toBe(selected.length);
  });
});
