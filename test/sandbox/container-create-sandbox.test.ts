import { requireDockerEngine } from '../support/require-docker-engine.js';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-chain.js';
import { QfError } from '../../src/errors.js';
import { SandboxSchema, type SandboxPolicy } from '../../src/policy/schema.js';
import { DEFAULT_SANDBOX_IMAGE, createSandbox } from '../../src/sandbox/create-sandbox.js';
import type { Sandbox, SandboxResult } from '../../src/sandbox/types.js';

// createSandbox against a real engine, a real missing image and a socket nobody listens on.

const docker = new Docker();
const NO_ENGINE_SOCKET = '/nonexistent/qf-test/docker.sock';
const MISSING_IMAGE = 'qualityfoundry/no-such-image:never-built';
const FIXED_NOW = new Date('2026-01-02T03:04:05.000Z');
let scratch = '';

beforeAll(async () => {
  await requireDockerEngine(docker);
  scratch = await mkdtemp(path.join(tmpdir(), 'qf-create-sandbox-'));
  // The "repository" must be readable by the container's non-root user, as a checkout is; mkdtemp makes 0700.
  await chmod(scratch, 0o755);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function policy(input: Record<string, unknown>): SandboxPolicy {
  return SandboxSchema.parse(input);
}

async function runPython(sandbox: Sandbox, code: string): Promise<SandboxResult> {
  return sandbox.run({
    command: 'python3',
    args: ['-c', code],
    repoDir: scratch,
    outputDir: path.join(scratch, 'out'),
    env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    timeoutMs: 30_000,
    maxOutputBytes: 4096,
  });
}

async function refusal(promise: Promise<unknown>): Promise<QfError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(QfError);
  return error as QfError;
}

describe('createSandbox', () => {
  it('returns the subprocess sandbox for mode subprocess, without touching an engine', async () => {
    const audit = new AuditTrail(() => FIXED_NOW);
    const sandbox = await createSandbox(policy({ mode: 'subprocess' }), { audit, docker: new Docker({ socketPath: NO_ENGINE_SOCKET }) });

    expect(sandbox.mode).toBe('subprocess');
    expect(audit.events).toEqual([]);
  });

  it('returns the container sandbox when the engine answers and the image exists', async () => {
    const audit = new AuditTrail(() => FIXED_NOW);
    const sandbox = await createSandbox(policy({ mode: 'container', container: { image: DEFAULT_SANDBOX_IMAGE } }), { audit, docker });
    const result = await runPython(sandbox, 'print("hello from the container")');

    expect(sandbox.mode).toBe('container');
    expect(result).toMatchObject({ mode: 'container', exitCode: 0, stdout: { text: 'hello from the container\n', droppedBytes: 0 } });
    expect(result.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.fallbackReason).toBeUndefined();
    expect(audit.events).toEqual([]);
  });

  it('refuses with SANDBOX_UNAVAILABLE and an audit event when no engine answers', async () => {
    const audit = new AuditTrail(() => FIXED_NOW);
    const error = await refusal(
      createSandbox(policy({ mode: 'container', container: { image: DEFAULT_SANDBOX_IMAGE } }), {
        audit,
        docker: new Docker({ socketPath: NO_ENGINE_SOCKET }),
      }),
    );

    expect(error.code).toBe('SANDBOX_UNAVAILABLE');
    expect(error.message).toMatchInlineSnapshot(
      `"No Docker engine answers at /nonexistent/qf-test/docker.sock (connect ENOENT /nonexistent/qf-test/docker.sock); expected a running engine for sandbox.mode "container" — run scripts/install-docker-engine.sh."`,
    );
    expect(audit.events.map(({ actor, action, subject, data }) => ({ actor, action, subject, data }))).toMatchInlineSnapshot(`
      [
        {
          "action": "sandbox.unavailable",
          "actor": "qf",
          "data": {
            "engine": "/nonexistent/qf-test/docker.sock",
            "fallback": "none",
            "image": "qualityfoundry/python-sandbox:bookworm",
            "missing": "engine",
            "mode": "container",
            "reason": "No Docker engine answers at /nonexistent/qf-test/docker.sock (connect ENOENT /nonexistent/qf-test/docker.sock); expected a running engine for sandbox.mode "container" — run scripts/install-docker-engine.sh.",
          },
          "subject": "qualityfoundry/python-sandbox:bookworm",
        },
      ]
    `);
  });

  it('refuses with SANDBOX_UNAVAILABLE and an audit event when the image is missing', async () => {
    const audit = new AuditTrail(() => FIXED_NOW);
    const error = await refusal(createSandbox(policy({ mode: 'container', container: { image: MISSING_IMAGE } }), { audit, docker }));

    expect(error.code).toBe('SANDBOX_UNAVAILABLE');
    expect(error.message).toMatchInlineSnapshot(
      `"The sandbox image "qualityfoundry/no-such-image:never-built" does not exist on the Docker engine at /var/run/docker.sock; expected it to be built beforehand — run scripts/build-sandbox-image.sh."`,
    );
    expect(audit.events.map(({ action, data }) => ({ action, missing: data.missing, fallback: data.fallback }))).toEqual([
      { action: 'sandbox.unavailable', missing: 'image', fallback: 'none' },
    ]);
  });

  it('falls back to the subprocess sandbox only when the policy says so, and says so on every result', async () => {
    const audit = new AuditTrail(() => FIXED_NOW);
    const sandbox = await createSandbox(policy({ mode: 'container', container: { image: MISSING_IMAGE }, fallback: 'subprocess' }), { audit, docker });
    const result = await runPython(sandbox, 'print("ran on the runner")');

    expect(sandbox.mode).toBe('subprocess');
    expect(result).toMatchObject({ mode: 'subprocess', exitCode: 0, stdout: { text: 'ran on the runner\n' } });
    expect(result.fallbackReason).toMatchInlineSnapshot(
      `"container sandbox unavailable, ran in the subprocess sandbox (sandbox.fallback: subprocess): The sandbox image "qualityfoundry/no-such-image:never-built" does not exist on the Docker engine at /var/run/docker.sock; expected it to be built beforehand — run scripts/build-sandbox-image.sh."`,
    );
    expect(audit.events.map(({ action, subject, data }) => ({ action, subject, missing: data.missing, fallback: data.fallback }))).toEqual([
      { action: 'sandbox.fallback', subject: MISSING_IMAGE, missing: 'image', fallback: 'subprocess' },
    ]);
  });

  it('refuses a container policy that would run the step as root', async () => {
    const audit = new AuditTrail(() => FIXED_NOW);
    const error = await refusal(createSandbox(policy({ mode: 'container', container: { image: DEFAULT_SANDBOX_IMAGE, user: '0:0' } }), { audit, docker }));

    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toContain('sandbox.container.user "0:0"');
  });
});
