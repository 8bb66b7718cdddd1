import { requireDockerEngine } from '../support/require-docker-engine.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOutcome } from '../../src/evidence/schema.js';
import { ContainerSchema, SandboxSchema } from '../../src/policy/schema.js';
import { ContainerSandbox } from '../../src/sandbox/container-sandbox.js';
import { DEFAULT_SANDBOX_IMAGE } from '../../src/sandbox/create-sandbox.js';
import { buildSandboxEnv } from '../../src/sandbox/sandbox-env.js';
import { SubprocessSandbox } from '../../src/sandbox/subprocess-sandbox.js';
import type { Sandbox } from '../../src/sandbox/types.js';
import { parseJUnitReport } from '../../src/tools/junit-report.js';
import { runPytestTool } from '../../src/tools/run-pytest.js';

// The same suites through run_pytest in both sandboxes: same status, counts and per-test outcomes.
// The host's pytest and the image's may differ in version; the JUnit outcomes must not.

const ESCAPES = fileURLToPath(new URL('../fixtures/sandbox-escapes/', import.meta.url));
const docker = new Docker();
const scratch: string[] = [];
let container: Sandbox;

beforeAll(async () => {
  await requireDockerEngine(docker);
  container = new ContainerSandbox({ docker, settings: ContainerSchema.parse({ image: DEFAULT_SANDBOX_IMAGE }) });
});

afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function runSuite(sandbox: Sandbox, fixture: string) {
  const stepDir = path.join(await mkdtemp(path.join(tmpdir(), 'qf-parity-')), 'step');
  scratch.push(path.dirname(stepDir));
  const policy = SandboxSchema.parse({});
  const run = await runPytestTool.run(runPytestTool.input.parse({}), {
    repoDir: path.join(ESCAPES, fixture),
    stepDir,
    sandbox,
    env: buildSandboxEnv(process.env, policy.env_allowlist),
    timeoutMs: 60_000,
    maxOutputBytes: policy.max_output_bytes,
    commands: {},
  });
  const outcomes: Record<string, TestOutcome> = {};
  if (run.artifacts[0]) await parseJUnitReport(run.artifacts[0], { onTestCase: (test) => (outcomes[test.id] = test.outcome) });
  return { run, outcomes };
}

describe.each([
  { fixture: 'parity-passing', status: 'passed', kinds: ['passed', 'skipped'] },
  { fixture: 'parity-failing', status: 'failed', kinds: ['error', 'failed', 'passed', 'skipped', 'xfailed'] },
])('run_pytest on $fixture', ({ fixture, status, kinds }) => {
  it('gives the same JUnit results in the container sandbox as in the subprocess sandbox', async () => {
    const host = await runSuite(new SubprocessSandbox(), fixture);
    const inContainer = await runSuite(container, fixture);

    expect(host.run.sandbox?.mode).toBe('subprocess');
    expect(inContainer.run.sandbox?.mode).toBe('container');
    expect(host.run.status).toBe(status);
    expect([...new Set(Object.values(host.outcomes))].sort()).toEqual(kinds);
    expect(inContainer.outcomes).toEqual(host.outcomes);
    expect(inContainer.run.status).toBe(host.run.status);
    expect(inContainer.run.tests?.counts).toEqual(host.run.tests?.counts);
    expect(inContainer.run.metrics['pytest.pass_rate']).toBe(host.run.metrics['pytest.pass_rate']);
    expect(inContainer.run.tests?.notable.map(({ id, outcome, file, line }) => ({ id, outcome, file, line }))).toEqual(
      host.run.tests?.notable.map(({ id, outcome, file, line }) => ({ id, outcome, file, line })),
    );
    // Same result shape; only the container result carries an image digest and its output folder's record.
    const { imageDigest, output, ...containerShape } = inContainer.run.sandbox!;
    expect(imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(output).toMatchObject({ files: 1, refused: [], refusedUnlisted: 0 }); // junit.xml
    expect(Object.keys(containerShape).sort()).toEqual(Object.keys(host.run.sandbox!).sort());
    expect(containerShape.exitCode).toBe(host.run.sandbox!.exitCode);
  });
});
