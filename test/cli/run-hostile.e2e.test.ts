import { randomBytes } from 'node:crypto';
import { chmod, cp, lstat, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { Evidence } from '../../src/evidence/schema.js';
import { PROJECTS_DIR, REPO_ROOT, tempDir } from '../support/temp-git-repo.js';

// Every attack of issue 14 that tested code can make from inside a step, made for real: the
// pytest files in test/fixtures/projects/hostile/ run through a real `qf run` process (started
// with credentials in its own environment, as the Action is), in the subprocess sandbox and in
// real containers.

const CREDENTIAL = 'qf-e2e-credential';
/** Shaped like a GitHub installation token, under a name no rule recognises. */
const TOKEN_UNDER_A_HARMLESS_NAME = `ghs_${'e2eFakeToken'.repeat(3)}`;

const scratch: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(scratch.map((cleanup) => cleanup()));
});

interface Project {
  dir: string;
  repo: string;
  out: string;
  policy: string;
}

/** A copy of the hostile project with `policy`, readable by the container's user. */
async function project(policy: string, extra: (repo: string) => Promise<void> = async () => undefined): Promise<Project> {
  const { dir, cleanup } = await tempDir('qf-hostile-');
  scratch.push(cleanup);
  await chmod(dir, 0o755); // the container's non-root user must be able to read the repository
  const repo = path.join(dir, 'repo');
  await cp(path.join(PROJECTS_DIR, 'hostile'), repo, { recursive: true });
  await extra(repo);
  const policyFile = path.join(dir, 'policy.yml');
  await writeFile(policyFile, policy);
  return { dir, repo, out: path.join(dir, 'out'), policy: policyFile };
}

/** Starts `qf run` as its own process (its environment is where the credentials are). */
function startQf(
  p: Project,
  env: Record<string, string> = {},
): ResultPromise<{ reject: false; cwd: string; env: Record<string, string>; extendEnv: false; stdin: 'ignore' }> {
  return execa(
    process.execPath,
    ['--import', 'tsx', 'src/cli/index.ts', 'run', '--repo', p.repo, '--out', p.out, '--policy', p.policy, '--changed', 'tests/test_x.py'],
    {
      reject: false,
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: '/tmp',
        LANG: 'C.UTF-8',
        GITHUB_TOKEN: `${CREDENTIAL}-github`,
        ACTIONS_RUNTIME_TOKEN: `${CREDENTIAL}-runtime`,
        AWS_SECRET_ACCESS_KEY: `${CREDENTIAL}-aws`,
        ...env,
      },
      extendEnv: false,
      stdin: 'ignore',
    },
  );
}

async function evidenceOf(p: Project, run?: { stdout: string; stderr: string }): Promise<Evidence> {
  const text = await readFile(path.join(p.out, 'evidence.json'), 'utf8').catch((error: unknown) => {
    throw new Error(`qf wrote no evidence (${String(error)}):\n${run?.stdout ?? ''}\n${run?.stderr ?? ''}`);
  });
  return JSON.parse(text) as Evidence;
}

function policy(options: { mode?: 'subprocess' | 'container'; timeout?: number; steps: string; allowlist?: string[]; container?: string }): string {
  return `version: 1
sandbox:
  mode: ${options.mode ?? 'subprocess'}
  timeout_seconds: ${options.timeout ?? 120}
  env_allowlist: [PATH, HOME, LANG, ${(options.allowlist ?? []).join(', ')}]
${options.container ? `  container: ${options.container}\n` : ''}tools: { allowlist: [run_pytest] }
plan:
${options.steps}
gate:
  - { id: no-failures, metric: pytest.failed, op: "==", value: 0 }
`;
}

const step = (id: string, input: string) => `  - { id: ${id}, when: { always: true }, run: run_pytest, with: ${input} }`;

/** Processes (not zombies) whose command line holds `marker`. */
async function processesWith(marker: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'stat,args']);
  return stdout.split('\n').filter((line) => line.includes(marker) && !line.startsWith('Z') && !line.includes('ps -eo'));
}

/** The kernel ends a namespace's processes at once, but their exit takes a moment to show in ps. */
async function expectNoneLeft(marker: string): Promise<void> {
  let left: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    left = await processesWith(marker);
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(left).toEqual([]);
}

describe('qf run against hostile tests: subprocess sandbox', () => {
  it('keeps credentials of qf and its parents out of reach through /proc, and drops credential values under harmless names', async () => {
    const p = await project(policy({ steps: step('proc', '{ paths: [tests/test_proc_environ.py] }'), allowlist: ['MY_SETTING'] }));
    const run = await startQf(p, { MY_SETTING: TOKEN_UNDER_A_HARMLESS_NAME });
    const evidence = await evidenceOf(p, run);

    expect(evidence.steps[0]!.tests?.counts, run.stdout + run.stderr).toMatchObject({ passed: 4, failed: 0, errors: 0 });
    expect(run.exitCode).toBe(0);
    expect(evidence.steps[0]!.sandbox).toMatchObject({
      mode: 'subprocess',
      isolation: { mechanism: 'user+pid namespace', hostProcessesProtected: true, descendantsEnded: true },
      envDropped: [{ name: 'MY_SETTING', format: 'GitHub token' }],
    });
    expect(JSON.stringify(evidence)).not.toContain(TOKEN_UNDER_A_HARMLESS_NAME);
    expect(JSON.stringify(evidence)).not.toContain(CREDENTIAL);
  });

  it.each([
    ['exits', 'exit', 'passed', 120],
    ['times out', 'hang', 'timed_out', 8],
  ] as const)('ends a setsid daemon that ignores SIGTERM when its step %s', async (_case, after, status, timeout) => {
    const marker = `qf-e2e-daemon-${randomBytes(6).toString('hex')}`;
    const p = await project(policy({ timeout, steps: step('daemon', '{ paths: [tests/test_daemon.py] }'), allowlist: ['"QF_E2E_*"'] }));
    const run = await startQf(p, { QF_E2E_MARKER: marker, QF_E2E_READY: path.join(p.dir, 'ready'), QF_E2E_AFTER: after });

    const evidence = await evidenceOf(p, run);
    expect(evidence.steps[0]!.status, run.stdout + run.stderr).toBe(status);
    await expect(lstat(path.join(p.dir, 'ready'))).resolves.toBeDefined(); // the daemon did run
    await expectNoneLeft(marker);
  });

  it('ends a setsid daemon that ignores SIGTERM when the run is interrupted', async () => {
    const marker = `qf-e2e-daemon-${randomBytes(6).toString('hex')}`;
    const p = await project(policy({ timeout: 600, steps: step('daemon', '{ paths: [tests/test_daemon.py] }'), allowlist: ['"QF_E2E_*"'] }));
    const ready = path.join(p.dir, 'ready');
    const qf = startQf(p, { QF_E2E_MARKER: marker, QF_E2E_READY: ready, QF_E2E_AFTER: 'hang' });
    while (!(await lstat(ready).catch(() => undefined))) await new Promise((resolve) => setTimeout(resolve, 100));
    qf.kill('SIGINT'); // Ctrl-C
    const run = await qf;

    expect(run.exitCode, run.stdout + run.stderr).not.toBe(0);
    expect((await evidenceOf(p)).complete).toBe(false);
    await expectNoneLeft(marker);
  });

  it('refuses paths outside the repository, also through a symlink in it', async () => {
    const p = await project(
      policy({
        steps: [
          step('up', '{ paths: ["../x"] }'),
          step('absolute', '{ paths: [/etc] }'),
          step('via-link', '{ paths: [root-link/etc] }'),
          step('cwd-link', '{ cwd: root-link, paths: [etc] }'),
        ].join('\n'),
      }),
      (repo) => symlink('/', path.join(repo, 'root-link')),
    );
    const run = await startQf(p);
    const evidence = await evidenceOf(p, run);

    expect(run.exitCode, run.stdout + run.stderr).not.toBe(0);
    expect(evidence.steps.map((s) => [s.id, s.status, s.reason])).toEqual([
      ['up', 'refused', `test path "../x" is outside the repository ${p.repo}; expected a path inside it.`],
      ['absolute', 'refused', `test path "/etc" is outside the repository ${p.repo}; expected a path inside it.`],
      ['via-link', 'refused', `test path "root-link/etc" resolves to /etc, outside the repository ${p.repo}; expected a path inside it.`],
      ['cwd-link', 'refused', `working directory "root-link" resolves to /, outside the repository ${p.repo}; expected a path inside it.`],
    ]);
    expect(evidence.steps.every((s) => s.sandbox === undefined)).toBe(true); // nothing ran
  });
});

describe('qf run against hostile tests: container sandbox', () => {
  it('keeps credentials of qf out of reach through /proc in a container too', async () => {
    const p = await project(
      policy({
        mode: 'container',
        steps: step('proc', '{ paths: [tests/test_proc_environ.py] }'),
        allowlist: ['MY_SETTING'],
        container: '{ image: "qualityfoundry/python-sandbox:bookworm" }',
      }),
    );
    const run = await startQf(p, { MY_SETTING: TOKEN_UNDER_A_HARMLESS_NAME });
    const evidence = await evidenceOf(p, run);

    expect(evidence.steps[0]!.tests?.counts, run.stdout + run.stderr).toMatchObject({ passed: 4, failed: 0, errors: 0 });
    expect(evidence.steps[0]!.sandbox).toMatchObject({
      mode: 'container',
      isolation: { mechanism: 'container' },
      envDropped: [{ name: 'MY_SETTING', format: 'GitHub token' }],
    });
    expect(run.exitCode).toBe(0);
  });

  it('passes a suite whose child was OOM-killed, and bounds and records what a step leaves in its output folder', async () => {
    const p = await project(
      policy({
        mode: 'container',
        steps: [step('oom', '{ paths: [tests/test_oom_child.py] }'), step('flood', '{ paths: [tests/test_output_flood.py] }')].join('\n'),
        allowlist: ['"QF_E2E_*"'],
        container: '{ image: "qualityfoundry/python-sandbox:bookworm", memory_mb: 96, output_mb: 8 }',
      }),
    );
    const run = await startQf(p, { QF_E2E_OUT: path.join(p.dir, 'out', 'reports', 'flood') });
    const evidence = await evidenceOf(p, run);

    const [oom, flood] = evidence.steps;
    expect(oom, run.stdout + run.stderr).toMatchObject({ status: 'passed', sandbox: { exitCode: 0, oomKilled: false, oomKilledDescendant: true } });
    expect(flood).toMatchObject({
      status: 'passed',
      sandbox: { output: { limitBytes: 8 * 1024 * 1024, refused: [{ path: 'passwd-link', reason: 'a symlink entry, not a regular file: not copied' }] } },
    });
    expect(evidence.gate.verdict).toBe('pass');
    const left = await readdir(path.join(p.out, 'reports', 'flood'), { withFileTypes: true });
    expect(left.map((entry) => [entry.name, entry.isFile()]).sort()).toEqual([
      ['huge.bin', true],
      ['junit.xml', true],
    ]);
    expect(evidence.artifacts.map((artifact) => artifact.path)).not.toContain('reports/flood/passwd-link');
    expect(run.exitCode).toBe(0);
  });
});
