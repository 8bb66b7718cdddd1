import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerSchema, SandboxSchema, type ContainerPolicy } from '../../src/policy/schema.js';
import { ContainerSandbox } from '../../src/sandbox/container-sandbox.js';
import { DEFAULT_SANDBOX_IMAGE } from '../../src/sandbox/create-sandbox.js';
import { requireDockerEngine } from '../support/require-docker-engine.js';
import { buildSandboxEnv } from '../../src/sandbox/sandbox-env.js';
import type { SandboxResult } from '../../src/sandbox/types.js';
import { parseJUnitReport } from '../../src/tools/junit-report.js';
import type { TestOutcome } from '../../src/evidence/schema.js';

// Real engine, real image, real pytest inside: every escape below is attempted by a pytest test in
// test/fixtures/sandbox-escapes/ running in the container sandbox.

const ESCAPES = fileURLToPath(new URL('../fixtures/sandbox-escapes/', import.meta.url));
const docker = new Docker();
const image = DEFAULT_SANDBOX_IMAGE;
let imageId = '';
const scratch: string[] = [];

// Host secrets the sandboxed code must never see, even when a policy lists their names.
const HOST_SECRETS = { GITHUB_TOKEN: 'qf-test-secret-gh', AWS_SECRET_ACCESS_KEY: 'qf-test-secret-aws', DEPLOY_PASSWORD: 'qf-test-secret-pw' };

beforeAll(async () => {
  imageId = await requireDockerEngine(docker, image);
  Object.assign(process.env, HOST_SECRETS);
});

afterAll(async () => {
  for (const name of Object.keys(HOST_SECRETS)) delete process.env[name];
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

function settings(overrides: Partial<ContainerPolicy> = {}): ContainerPolicy {
  return { ...ContainerSchema.parse({ image }), ...overrides };
}

interface PytestRun {
  result: SandboxResult;
  outputDir: string;
  outcomes: Map<string, TestOutcome>;
}

/** Runs pytest on one fixture folder (mounted read-only as the repository) in a container sandbox. */
async function runEscape(
  fixture: string,
  options: {
    settings?: Partial<ContainerPolicy>;
    timeoutMs?: number;
    maxOutputBytes?: number;
    pytestArgs?: string[];
    signal?: AbortSignal;
    onStarted?: (outputDir: string) => void;
    onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
  } = {},
): Promise<PytestRun> {
  const outputDir = path.join(await mkdtemp(path.join(tmpdir(), 'qf-container-test-')), 'out');
  scratch.push(path.dirname(outputDir));
  const repoDir = path.join(ESCAPES, fixture);
  const junit = path.join(outputDir, 'junit.xml');
  const allowlist = [...SandboxSchema.parse({}).env_allowlist, 'GITHUB_TOKEN', 'AWS_*', 'DEPLOY_PASSWORD'];
  const sandbox = new ContainerSandbox({ docker, settings: settings(options.settings) });
  options.onStarted?.(outputDir);
  const result = await sandbox.run({
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onOutput ? { onOutput: options.onOutput } : {}),
    command: 'python3',
    args: ['-m', 'pytest', '-q', `--junitxml=${junit}`, '-o', 'junit_family=xunit1', '-p', 'no:cacheprovider', ...(options.pytestArgs ?? [])],
    repoDir,
    outputDir,
    env: buildSandboxEnv(process.env, allowlist, { PYTHONDONTWRITEBYTECODE: '1', QF_OUTPUT_DIR: outputDir }),
    timeoutMs: options.timeoutMs ?? 60_000,
    maxOutputBytes: options.maxOutputBytes ?? 256 * 1024,
  });
  const outcomes = new Map<string, TestOutcome>();
  if (result.exitCode !== null) await parseJUnitReport(junit, { onTestCase: (test) => outcomes.set(test.id, test.outcome) });
  return { result, outputDir, outcomes };
}

async function expectContainerGone(id: string): Promise<void> {
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  await expect(docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
}

describe('ContainerSandbox escapes', () => {
  it('blocks network, writes outside the output folder, host secrets and privilege gains', async () => {
    const { result, outputDir, outcomes } = await runEscape('contained');

    expect(result, result.stdout.text + result.stderr.text).toMatchObject({ mode: 'container', exitCode: 0, signal: null, timedOut: false, oomKilled: false });
    expect(result.imageDigest).toBe(imageId);
    expect(Object.fromEntries(outcomes)).toMatchInlineSnapshot(`
      {
        "test_filesystem.py::test_output_folder_is_writable": "passed",
        "test_filesystem.py::test_tmp_is_writable_but_not_executable": "passed",
        "test_filesystem.py::test_write_to_mounted_repository_fails": "passed",
        "test_filesystem.py::test_write_to_root_filesystem_fails[/escape.txt]": "passed",
        "test_filesystem.py::test_write_to_root_filesystem_fails[/etc/escape.conf]": "passed",
        "test_filesystem.py::test_write_to_root_filesystem_fails[/root/escape]": "passed",
        "test_filesystem.py::test_write_to_root_filesystem_fails[/usr/bin/escape]": "passed",
        "test_network.py::test_name_resolution_fails": "passed",
        "test_network.py::test_only_loopback_interface": "passed",
        "test_network.py::test_tcp_connect_fails[1.1.1.1-53]": "passed",
        "test_network.py::test_tcp_connect_fails[169.254.169.254-80]": "passed",
        "test_network.py::test_tcp_connect_fails[172.17.0.1-2375]": "passed",
        "test_network.py::test_tcp_connect_fails[8.8.8.8-443]": "passed",
        "test_network.py::test_udp_send_fails": "passed",
        "test_privileges.py::test_capability_requiring_call_fails[chown]": "passed",
        "test_privileges.py::test_capability_requiring_call_fails[chroot]": "passed",
        "test_privileges.py::test_capability_requiring_call_fails[mknod]": "passed",
        "test_privileges.py::test_capability_requiring_call_fails[raise-priority]": "passed",
        "test_privileges.py::test_capability_requiring_call_fails[raw-socket]": "passed",
        "test_privileges.py::test_capability_requiring_call_fails[setgid]": "passed",
        "test_privileges.py::test_capability_requiring_call_fails[setuid]": "passed",
        "test_privileges.py::test_not_root_and_no_capabilities": "passed",
        "test_privileges.py::test_setuid_binary_keeps_our_uid": "passed",
        "test_secrets.py::test_init_process_environment_is_clean_too": "passed",
        "test_secrets.py::test_no_credential_names": "passed",
        "test_secrets.py::test_no_known_secret_values": "passed",
      }
    `);
    // The one writable place really is writable, at the host's path.
    await expect(readFile(path.join(outputDir, 'written-from-sandbox.txt'), 'utf8')).resolves.toBe('ok');
  });

  it('stops a fork bomb at the pids limit and the host keeps working', async () => {
    // A uid of its own: nproc is counted per uid across the host, so the bomb must not share one
    // with containers other test files run at the same time.
    const { result, outputDir, outcomes } = await runEscape('fork-bomb', { settings: { pids_limit: 64, user: '65533:65533' } });

    expect(result, result.stdout.text).toMatchObject({ exitCode: 0, timedOut: false, oomKilled: false });
    expect([...outcomes.values()]).toEqual(['passed']);
    const [forks, ...error] = (await readFile(path.join(outputDir, 'forks.txt'), 'utf8')).trim().split(' ');
    expect(Number(forks)).toBeLessThan(64);
    expect(error.join(' ')).toMatch(/BlockingIOError|Resource temporarily unavailable/);
    // The host can still start processes and the engine still answers.
    await expect(execa('true')).resolves.toMatchObject({ exitCode: 0 });
    await expect(docker.ping()).resolves.toBeDefined();
  });

  it('reports an allocation past the memory limit as an OOM kill', async () => {
    const { result } = await runEscape('memory-hog', { settings: { memory_mb: 96 } });

    expect(result).toMatchObject({ mode: 'container', oomKilled: true, timedOut: false, exitCode: null, signal: 'SIGKILL' });
  });

  it('does not report a step whose child was OOM-killed as an OOM kill when the command finished', async () => {
    const { result, outcomes } = await runEscape('oom-child', { settings: { memory_mb: 96 } });

    expect(result, result.stdout.text + result.stderr.text).toMatchObject({
      exitCode: 0,
      signal: null,
      timedOut: false,
      oomKilled: false,
      oomKilledDescendant: true,
    });
    expect([...outcomes.values()]).toEqual(['passed', 'passed']);
  });

  it('bounds what a step leaves in its output folder and records what it refused', async () => {
    const { result, outputDir, outcomes } = await runEscape('output-flood', { settings: { output_mb: 8, output_max_files: 50 } });

    expect(result, result.stdout.text + result.stderr.text).toMatchObject({ exitCode: 0, timedOut: false });
    // Every write past the bounds failed inside (the tests assert ENOSPC), and the report came out.
    expect([...outcomes.values()]).toEqual(['passed', 'passed', 'passed']);
    const output = result.output!;
    expect(output).toMatchObject({ limitBytes: 8 * 1024 * 1024, maxFiles: 50, files: 50 });
    expect(output.refused).toEqual(
      expect.arrayContaining([
        { path: 'passwd-link', reason: 'a symlink entry, not a regular file: not copied' },
        { path: 'root-link', reason: 'a symlink entry, not a regular file: not copied' },
        { path: 'pipe', reason: 'a fifo entry, not a regular file: not copied' },
        { path: expect.stringMatching(/^zz-many\/\d{6}$/), reason: 'over the limit of 50 files and folders (sandbox.container.output_max_files)' },
      ]),
    );
    // On the host: only what was taken, nothing to follow, within the size limit.
    const left = await readdir(outputDir, { recursive: true, withFileTypes: true });
    expect(left.length).toBeLessThanOrEqual(50);
    expect(left.filter((entry) => !entry.isFile() && !entry.isDirectory())).toEqual([]);
    const sizes = await Promise.all(left.filter((entry) => entry.isFile()).map(async (entry) => (await lstat(path.join(entry.parentPath, entry.name))).size));
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(output.bytes).toBe(sizes.reduce((sum, size) => sum + size, 0));
  });

  it('kills the container at the deadline and removes it', async () => {
    const { result, outputDir } = await runEscape('deadline', { timeoutMs: 5_000 });

    expect(result).toMatchObject({ timedOut: true, oomKilled: false, exitCode: null, signal: 'SIGKILL' });
    await expectContainerGone((await readFile(path.join(outputDir, 'container-id.txt'), 'utf8')).trim());
  });

  it('keeps only the tail of a stdout flood and counts what it dropped', async () => {
    const cap = 64 * 1024;
    const { result } = await runEscape('stdout-flood', { maxOutputBytes: cap, pytestArgs: ['-s'] });

    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(Buffer.byteLength(result.stdout.text)).toBeLessThanOrEqual(cap);
    expect(result.stdout.text).toContain('FLOOD-END');
    expect(result.stdout.text).toMatch(/1 passed/);
    expect(result.stdout.droppedBytes).toBeGreaterThan(32 * 1024 * 1024 - cap);
    expect(result.stdout.droppedBytes + Buffer.byteLength(result.stdout.text)).toBeGreaterThan(32 * 1024 * 1024);
  });
});

describe('ContainerSandbox result', () => {
  it('kills and removes the container when the caller aborts', async () => {
    const abort = new AbortController();
    // Abort once the test inside is running (it says so on stdout, read live), not at a guessed time.
    const { result, outputDir } = await runEscape('deadline', {
      timeoutMs: 120_000,
      pytestArgs: ['-s'],
      onOutput: (_stream, chunk) => chunk.includes('sleeping past the deadline') && abort.abort(),
      signal: abort.signal,
    });

    expect(result).toMatchObject({ timedOut: false, exitCode: null, signal: 'SIGKILL' });
    await expectContainerGone((await readFile(path.join(outputDir, 'container-id.txt'), 'utf8')).trim());
  });

  it('reports a command that does not exist as a spawn error, like the subprocess sandbox', async () => {
    const outputDir = path.join(await mkdtemp(path.join(tmpdir(), 'qf-container-test-')), 'out');
    scratch.push(path.dirname(outputDir));
    const result = await new ContainerSandbox({ docker, settings: settings() }).run({
      command: 'no-such-command',
      args: [],
      repoDir: path.join(ESCAPES, 'parity-passing'),
      outputDir,
      env: {},
      timeoutMs: 30_000,
      maxOutputBytes: 4096,
    });

    expect(result).toMatchObject({ mode: 'container', exitCode: null, signal: null, timedOut: false, imageDigest: imageId });
    expect(result.spawnError).toMatch(/exec no-such-command failed: No such file or directory/);
  });

  it('passes exactly the given environment and runs in the same working directory as on the host', async () => {
    const outputDir = path.join(await mkdtemp(path.join(tmpdir(), 'qf-container-test-')), 'out');
    scratch.push(path.dirname(outputDir));
    const repoDir = path.join(ESCAPES, 'contained');
    const result = await new ContainerSandbox({ docker, settings: settings() }).run({
      command: 'python3',
      args: ['-c', 'import os, json; print(json.dumps({"cwd": os.getcwd(), "mark": os.environ.get("QF_MARK"), "user": os.getuid()}))'],
      repoDir,
      outputDir,
      env: { QF_MARK: 'from-the-caller' },
      timeoutMs: 30_000,
      maxOutputBytes: 4096,
    });

    expect(result).toMatchObject({ exitCode: 0, stderr: { text: '', droppedBytes: 0 } });
    expect(JSON.parse(result.stdout.text)).toEqual({ cwd: repoDir, mark: 'from-the-caller', user: 65534 });
  });
});
