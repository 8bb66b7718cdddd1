import { access, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { REPO_ROOT, runGit, tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

// Issue 14, items 1, 2 and 8: a pull request's code is hostile, and qf runs as root on the host.
// Every test here performs the attack for real: real pytest through `qf run`, real links, pipes and
// signals, and checks the host file or folder it aimed at.

const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function repoWith(files: Record<string, string>, links: Record<string, string> = {}): Promise<TempGitRepo> {
  const repo = await tempGitRepo('passing');
  cleanups.push(repo.cleanup);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(repo.dir, file)), { recursive: true });
    await writeFile(path.join(repo.dir, file), content);
  }
  for (const [file, target] of Object.entries(links)) {
    await mkdir(path.dirname(path.join(repo.dir, file)), { recursive: true });
    await symlink(target, path.join(repo.dir, file));
  }
  await runGit(repo.dir, ['add', '-A']);
  await runGit(repo.dir, ['commit', '-qm', 'hostile change']);
  return repo;
}

/** A host folder the attack aims at, outside every repository and output folder. */
async function hostFolder(): Promise<string> {
  const { dir, cleanup } = await tempDir('qf-host-');
  cleanups.push(cleanup);
  return dir;
}

async function qf(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: BASE_ENV, cwd });
  return { code, stdout, stderr };
}

async function readEvidence(out: string): Promise<Evidence> {
  return JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
}

/** conftest.py that, once pytest has written its JUnit report, replaces it by running `swap` (Python) at interpreter exit. */
function swapReportAtExit(swap: string): string {
  return `import atexit
import os


def pytest_configure(config):
    report = config.option.xmlpath

    def swap():
${swap
  .split('\n')
  .map((line) => `        ${line}`)
  .join('\n')}

    atexit.register(swap)
`;
}

/** A JUnit report holding a host secret, as another tool's report on the host might. */
function hostReport(secret: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="0" tests="1"><testcase classname="tests.test_host" name="test_host" file="tests/test_host.py" line="1"><failure message="${secret}">${secret}</failure></testcase></testsuite></testsuites>\n`;
}

describe('item 1: links planted in the output folder', () => {
  it('refuses a committed qf-out whose summary.md and step folder are links into the host, and touches neither', async () => {
    const host = await hostFolder();
    const victimFile = path.join(host, 'authorized_keys');
    await writeFile(victimFile, 'ssh-ed25519 AAAA host-key\n');
    const victimDir = path.join(host, 'etc');
    await mkdir(victimDir, { mode: 0o755 });
    const repo = await repoWith({}, { 'qf-out/summary.md': victimFile, 'qf-out/reports/unit': victimDir });

    const run = await qf(['run', '--repo', repo.dir], repo.dir);

    expect(run.code).toBe(ExitCode.badInput);
    expect(run.stderr).toContain(
      `qf: Output folder ${path.join(repo.dir, 'qf-out')} holds 2 symbolic link(s), pipe(s) or device(s): reports/unit, summary.md. qf never follows a link it did not create`,
    );
    expect(await readFile(victimFile, 'utf8')).toBe('ssh-ed25519 AAAA host-key\n');
    expect((await stat(victimDir)).mode & 0o777).toBe(0o755);
    expect(await readdir(victimDir)).toEqual([]);
  });

  it('refuses an output folder that is itself a link into the host', async () => {
    const victimDir = await hostFolder();
    const repo = await repoWith({}, { 'qf-out': victimDir });

    const run = await qf(['run', '--repo', repo.dir], repo.dir);

    expect(run.code).toBe(ExitCode.badInput);
    expect(run.stderr).toContain(`qf: Output folder ${path.join(repo.dir, 'qf-out')} is a symbolic link (to ${victimDir})`);
    expect(await readdir(victimDir)).toEqual([]);
  });

  it('starts every run from a folder it creates: an earlier run is replaced, a folder of other files is refused', async () => {
    const repo = await tempGitRepo('passing');
    cleanups.push(repo.cleanup);
    const out = path.join(repo.dir, 'qf-out');
    expect((await qf(['run', '--repo', repo.dir], repo.dir)).code).toBe(ExitCode.pass);
    await writeFile(path.join(out, 'reports', 'unit', 'stale.xml'), '<stale/>');

    const again = await qf(['run', '--repo', repo.dir], repo.dir);
    expect(again.code).toBe(ExitCode.pass);
    expect(await readdir(path.join(out, 'reports', 'unit'))).toEqual(['junit.xml']);
    const evidence = await readEvidence(out);
    expect(evidence.artifacts.map((artifact) => artifact.path)).toEqual(['reports/unit/junit.xml', 'summary.md']);
    // The earlier run's folder is untracked output, not part of the change.
    expect(evidence.change.changedFiles.filter((file) => file.startsWith('qf-out/'))).toEqual([]);

    const { dir: mine } = await tempDir('qf-mine-').then((made) => (cleanups.push(made.cleanup), made));
    await writeFile(path.join(mine, 'thesis.tex'), 'mine');
    const refused = await qf(['run', '--repo', repo.dir, '--out', mine], repo.dir);
    expect(refused.code).toBe(ExitCode.badInput);
    expect(refused.stderr).toContain(`qf: Output folder ${mine} holds files qf did not write (thesis.tex)`);
    expect(await readFile(path.join(mine, 'thesis.tex'), 'utf8')).toBe('mine');
  });

  it('keeps files the change commits under the output folder in the changed-file list', async () => {
    const repo = await tempGitRepo('approval');
    cleanups.push(repo.cleanup);
    const base = repo.head;
    // The approval rule covers qf-out/**: a change hiding a file there must still need a human.
    const policyFile = path.join(repo.dir, '.github/qualityfoundry.yml');
    await writeFile(
      policyFile,
      (await readFile(policyFile, 'utf8')).replace(
        'required_when: { changed: ["migrations/**"] }',
        'required_when: { changed: ["migrations/**", "qf-out/**"] }',
      ),
    );
    await runGit(repo.dir, ['commit', '-qam', 'policy']);
    await mkdir(path.join(repo.dir, 'qf-out'));
    await writeFile(path.join(repo.dir, 'qf-out/summary.md'), 'committed by the change\n');
    await runGit(repo.dir, ['add', '-A']);
    await runGit(repo.dir, ['commit', '-qm', 'hide a file in qf-out']);

    const run = await qf(['run', '--repo', repo.dir, '--base', base, '--head', 'HEAD', '--json'], repo.dir);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.waitingForHuman);
    const evidence = await readEvidence(path.join(repo.dir, 'qf-out'));
    expect(evidence.change.changedFiles).toContain('qf-out/summary.md');
    expect(evidence.approval).toMatchObject({ required: true, status: 'waiting' });
  });
});

describe('item 2: reports swapped after the step', () => {
  it.each([
    ['a symbolic link to a host file', 'os.symlink(HOST, report)', /Refused to read .*junit\.xml: it is a symbolic link\./],
    ['a hard link to a host file', 'os.link(HOST, report)', /Refused to read .*junit\.xml: it has 2 hard links; a step's own file has one\./],
  ])('never reads a junit.xml replaced by %s into evidence or the summary', async (_kind, swap, refusal) => {
    const host = await hostFolder();
    const secret = `qf-host-secret-${process.pid}`;
    const victim = path.join(host, 'report.xml');
    await writeFile(victim, hostReport(secret));
    const repo = await repoWith({ 'conftest.py': swapReportAtExit(`os.remove(report)\n${swap.replace('HOST', JSON.stringify(victim))}`) });
    const out = path.join(path.dirname(repo.dir), 'out');

    const run = await qf(['run', '--repo', repo.dir, '--out', out], repo.dir);

    expect(run.code).toBe(ExitCode.gateFailed);
    const raw = await readFile(path.join(out, 'evidence.json'), 'utf8');
    expect(raw).not.toContain(secret);
    expect(await readFile(path.join(out, 'summary.md'), 'utf8')).not.toContain(secret);
    const evidence = JSON.parse(raw) as Evidence;
    expect(evidence.steps[0]).toMatchObject({ status: 'error', artifacts: [] });
    expect(evidence.steps[0]!.reason).toMatch(refusal);
    expect(evidence.artifacts.map((artifact) => artifact.path)).toEqual(['summary.md']);
    expect(evidence.audit.filter((event) => event.action === 'artifact.refused').map((event) => event.data.path)).toContain('reports/unit/junit.xml');
    expect(await readFile(victim, 'utf8')).toBe(hostReport(secret));
  });

  it('does not hang on a junit.xml replaced by a named pipe, nor on a pipe left beside it', async () => {
    const repo = await repoWith({
      'conftest.py': swapReportAtExit('os.remove(report)\nos.mkfifo(report)\nos.mkfifo(os.path.join(os.path.dirname(report), "extra.log"))'),
    });
    const out = path.join(path.dirname(repo.dir), 'out');

    // A real qf process: a hang would block a libuv thread for good, and with it even process.exit.
    const run = await qfProcess(['run', '--repo', repo.dir, '--out', out]);

    expect(run.exitCode).toBe(ExitCode.gateFailed);
    const evidence = await readEvidence(out);
    expect(evidence.complete).toBe(true);
    expect(evidence.steps[0]!.reason).toMatch(/Refused to read .*junit\.xml: it is a named pipe, not a regular file\./);
    expect(
      evidence.audit
        .filter((event) => event.action === 'artifact.refused')
        .map((event) => event.data.path)
        .sort(),
    ).toEqual(['reports/unit/extra.log', 'reports/unit/junit.xml']);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('ends the run on %s with evidence marked incomplete, and no test process left', async (signal) => {
    const host = await hostFolder();
    const started = path.join(host, 'started');
    const marker = `qf-hang-${signal}-${process.pid}`;
    const repo = await repoWith({
      'tests/test_hangs.py': `import subprocess\n\n\ndef test_hangs():\n    child = subprocess.Popen(["sleep", "3600", "${marker}"])\n    open(${JSON.stringify(started)}, "w").write(str(child.pid))\n    child.wait()\n`,
    });
    const out = path.join(path.dirname(repo.dir), 'out');

    const child = qfProcess(['run', '--repo', repo.dir, '--out', out]);
    await waitForFile(started);
    child.kill(signal);
    const run = await child;

    expect(run.exitCode).toBe(ExitCode.interrupted); // 130, through the real entry point
    expect(run.stderr).toMatch(new RegExp(`Run interrupted \\(${signal}\\) during step unit after \\d+\\.\\d s\\.`));
    const evidence = await readEvidence(out);
    expect(evidence).toMatchObject({
      complete: false,
      incompleteReason: expect.stringMatching(new RegExp(`^Run interrupted \\(${signal}\\) during step unit after \\d+\\.\\d s\\.$`)),
      gate: { verdict: 'blocked' },
    });
    expect(evidence.steps).toMatchObject([{ id: 'unit', status: 'interrupted' }]);
    const ps = await execa('ps', ['-eo', 'stat,args']);
    expect(ps.stdout.split('\n').filter((line) => line.includes(marker) && !line.startsWith('Z'))).toEqual([]);
  });
});

describe('item 8: a rewritten report does not beat the exit code', () => {
  it('fails a step whose pytest exited 1 while an atexit hook rewrote its report to say all passed', async () => {
    const allPassed =
      '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="0" skipped="0" tests="1"><testcase classname="tests.test_pricing" name="test_no_discount" file="tests/test_pricing.py" line="5" time="0.001" /></testsuite></testsuites>';
    const repo = await repoWith({
      'conftest.py': swapReportAtExit(`with open(report, "w") as rewritten:\n    rewritten.write(${JSON.stringify(allPassed)})`),
      'tests/test_broken.py': 'def test_broken():\n    assert 1 == 2\n',
    });
    const out = path.join(path.dirname(repo.dir), 'out');

    const run = await qf(['run', '--repo', repo.dir, '--out', out], repo.dir);

    expect(run.code).toBe(ExitCode.gateFailed);
    const evidence = await readEvidence(out);
    expect(evidence.steps[0]).toMatchObject({ status: 'failed', sandbox: { exitCode: 1 } });
    expect(evidence.steps[0]!.reason).toBe(
      'pytest exited with code 1 (tests failed) but its JUnit report lists 1 tests, 0 failed and 0 errors: the report does not match the run, so it is not trusted.',
    );
    // Every rule holds on the forged numbers; the failed step alone fails the gate.
    expect(evidence.metrics['pytest.failed']).toBe(0);
    expect(evidence.gate.verdict).toBe('fail');
    expect(evidence.gate.reasons).toEqual([`Step unit failed: ${evidence.steps[0]!.reason}`]);
  });
});

/** `qf` as its own process, from source, with a bound on how long a broken build may hang the suite. */
function qfProcess(args: string[]) {
  return execa(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/index.ts'), ...args], {
    cwd: REPO_ROOT,
    env: BASE_ENV,
    extendEnv: false,
    reject: false,
    timeout: 90_000,
    forceKillAfterDelay: 2_000,
  });
}

/** Waits until a file exists: the test's own signal that it is running (no timing involved). */
async function waitForFile(file: string): Promise<void> {
  for (;;) {
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
