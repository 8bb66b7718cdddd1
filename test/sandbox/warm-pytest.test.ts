import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { SubprocessSandbox } from '../../src/sandbox/subprocess-sandbox.js';
import type { SandboxRequest } from '../../src/sandbox/types.js';
import { WarmPytest } from '../../src/sandbox/warm-pytest.js';
import { pytestArguments } from '../../src/tools/run-pytest.js';
import { tempDir } from '../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' };

// Each test asserts what `python -m pytest` guarantees, so it passes only if the warm process
// behaves like a fresh one: the folder on sys.path, argv[0] pytest's __main__, stdin /dev/null.
const LIKE_PYTHON_M_PYTEST = `import os, sys

def test_the_working_folder_is_on_sys_path():
    assert os.getcwd() in sys.path

def test_argv0_is_pytests_main():
    assert sys.argv[0].endswith(os.path.join("pytest", "__main__.py"))

def test_stdin_is_dev_null():
    assert os.path.samestat(os.fstat(0), os.stat(os.devnull))
`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function project(files: Record<string, string>): Promise<{ repo: string; out: string }> {
  const work = await tempDir('qf-warm-test-');
  cleanups.push(work.cleanup);
  const repo = path.join(work.dir, 'repo');
  for (const [file, text] of Object.entries({ 'tests/test_like_python_m.py': LIKE_PYTHON_M_PYTEST, ...files })) {
    await mkdir(path.dirname(path.join(repo, file)), { recursive: true });
    await writeFile(path.join(repo, file), text);
  }
  const out = path.join(work.dir, 'out');
  await mkdir(out);
  return { repo, out };
}

async function warm(repo: string, options: { python?: string; env?: Record<string, string> } = {}): Promise<WarmPytest> {
  const started = WarmPytest.start({ python: options.python ?? 'python3', repoDir: repo, env: options.env ?? ENV });
  if (!started) throw new Error('the warm start did not start');
  cleanups.push(() => started.discard());
  return started;
}

function pytestRequest(repo: string, out: string, overrides: Partial<SandboxRequest> = {}): SandboxRequest {
  return {
    command: 'python3',
    args: pytestArguments({ paths: ['tests'], args: [] }, path.join(out, 'junit.xml')),
    repoDir: repo,
    outputDir: out,
    env: ENV,
    timeoutMs: 60_000,
    maxOutputBytes: 64 * 1024,
    ...overrides,
  };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('WarmPytest', () => {
  it('runs the first pytest step in the Python that imported pytest ahead, as python -m pytest would', async () => {
    const { repo, out } = await project({});
    const sandbox = new SubprocessSandbox({ warmPytest: await warm(repo) });

    const first = await sandbox.run(pytestRequest(repo, out));
    expect(first.stdout.text).toContain('3 passed');
    expect(first).toMatchObject({ exitCode: 0, timedOut: false, warmStart: { used: true } });
    expect(existsSync(path.join(out, 'junit.xml'))).toBe(true);

    // Handed over once: the next step starts the ordinary way, and passes the same tests.
    const second = await sandbox.run(pytestRequest(repo, out));
    expect(second.exitCode).toBe(0);
    expect(second.warmStart).toBeUndefined();
  });

  it('starts the plain command when the working folder has a module pytest already imported, so that module is used', async () => {
    // pytest imports pprint; `python -m pytest` in this folder would import this file instead.
    const shadow = `import importlib.util, os, sys, sysconfig
print("repository pprint imported", file=sys.stderr)
_spec = importlib.util.spec_from_file_location("_stdlib_pprint", os.path.join(sysconfig.get_paths()["stdlib"], "pprint.py"))
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
globals().update({name: value for name, value in vars(_module).items() if not name.startswith("__")})
`;
    const { repo, out } = await project({ 'pprint.py': shadow });
    const result = await new SubprocessSandbox({ warmPytest: await warm(repo) }).run(pytestRequest(repo, out));

    expect(result.warmStart).toEqual({ used: false, reason: 'the working folder has pprint.py, which python -m pytest would import instead' });
    expect(result.stderr.text).toContain('repository pprint imported');
    expect(result.exitCode).toBe(0);
    expect(result.stdout.text).toContain('3 passed');
  });

  it('imports nothing ahead when a sys.path entry lies inside the repository (an editable install)', async () => {
    const { repo, out } = await project({ 'src/calc/__init__.py': 'def add(a, b):\n    return a + b\n', 'tests/test_calc.py': 'from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n' });
    const venv = path.join(path.dirname(repo), 'venv');
    await execa('python3', ['-m', 'venv', '--system-site-packages', '--without-pip', venv]);
    const { stdout: sitePackages } = await execa(path.join(venv, 'bin/python'), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']);
    await writeFile(path.join(sitePackages.trim(), 'calc-editable.pth'), `${path.join(repo, 'src')}\n`);
    const python = path.join(venv, 'bin/python');

    const result = await new SubprocessSandbox({ warmPytest: await warm(repo, { python }) }).run(pytestRequest(repo, out, { command: python }));
    expect(result.warmStart).toEqual({ used: false, reason: `sys.path has ${path.join(repo, 'src')}, inside the repository, so nothing was imported ahead` });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.text).toContain('4 passed');
  });

  it('stays out of the way when its interpreter cannot be started: the step reports that itself', async () => {
    const { repo, out } = await project({});
    const warmPytest = await warm(repo, { python: 'no-such-python-qf' });
    const result = await new SubprocessSandbox({ warmPytest }).run(pytestRequest(repo, out, { command: 'no-such-python-qf' }));
    expect(result.spawnError).toMatch(/ENOENT/);
    expect(result.warmStart).toBeUndefined();
    await warmPytest.discard();
  });

  it('hands a Python without pytest the plain command, whose own error the step reports', async () => {
    const { repo, out } = await project({});
    const venv = path.join(path.dirname(repo), 'bare-venv');
    await execa('python3', ['-m', 'venv', '--without-pip', venv]);
    const python = path.join(venv, 'bin/python');
    const result = await new SubprocessSandbox({ warmPytest: await warm(repo, { python }) }).run(pytestRequest(repo, out, { command: python }));
    expect(result.warmStart).toEqual({ used: false, reason: 'importing pytest ahead failed (ModuleNotFoundError)' });
    expect(result.stderr.text).toContain('No module named pytest');
    expect(result.exitCode).toBe(1);
  });

  it('is not started when PYTHONPATH is set, since its entries are importable before any check', async () => {
    const { repo } = await project({});
    expect(WarmPytest.start({ python: 'python3', repoDir: repo, env: { ...ENV, PYTHONPATH: 'src' } })).toBeUndefined();
  });

  it('is never handed a request it was not started for, and discarding it ends its process', async () => {
    const { repo, out } = await project({});
    const warmPytest = await warm(repo);
    const pid = (warmPytest as unknown as { launched: { child: { pid: number } } }).launched.child.pid;
    const sandbox = new SubprocessSandbox({ warmPytest });

    const otherEnv = await sandbox.run(pytestRequest(repo, out, { env: { ...ENV, TZ: 'UTC' } }));
    const otherCommand = await sandbox.run(pytestRequest(repo, out, { args: ['-c', 'print("not pytest")'] }));
    const otherFolder = await sandbox.run(pytestRequest(repo, out, { cwd: 'tests', args: pytestArguments({ paths: ['.'], args: [] }, path.join(out, 'junit.xml')) }));
    for (const result of [otherEnv, otherCommand, otherFolder]) {
      expect(result.exitCode).toBe(0);
      expect(result.warmStart).toBeUndefined();
    }
    expect(otherCommand.stdout.text).toBe('not pytest\n');
    expect(isAlive(pid)).toBe(true);

    const tempBefore = await readdir(path.dirname((warmPytest as unknown as { launched: { fifos: { dir: string } } }).launched.fifos.dir));
    await warmPytest.discard();
    expect(isAlive(pid)).toBe(false);
    expect(tempBefore).toContain(path.basename((warmPytest as unknown as { launched: { fifos: { dir: string } } }).launched.fifos.dir));
    expect(existsSync((warmPytest as unknown as { launched: { fifos: { dir: string } } }).launched.fifos.dir)).toBe(false);
  });

  it('counts the deadline from the hand-over and stops the step at it', async () => {
    const { repo, out } = await project({ 'tests/test_hang.py': 'import subprocess, time\n\ndef test_hang():\n    subprocess.Popen(["sleep", "300"])\n    time.sleep(300)\n' });
    const result = await new SubprocessSandbox({ warmPytest: await warm(repo) }).run(pytestRequest(repo, out, { timeoutMs: 3_000 }));
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGTERM');
    expect(result.warmStart).toEqual({ used: true });
  });
});
