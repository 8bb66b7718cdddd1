import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { verifyEvidence } from '../../src/evidence/verify-evidence.js';
import { PROJECTS_DIR, REPO_ROOT, tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

/** A real bundle of evidence schema version 1, written by `qf run` at commit afc5011 (see test/fixtures/README.md). */
const V1_BUNDLE = path.join(REPO_ROOT, 'test/fixtures/evidence-v1');

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' };

async function qf(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: ENV, cwd });
  return { code, stdout, stderr };
}

describe('qf validate', () => {
  it('accepts a valid policy and summarises it', async () => {
    const result = await qf(['validate', 'passing/.github/qualityfoundry.yml', 'approval/.github/qualityfoundry.yml'], PROJECTS_DIR);
    expect(result).toEqual({
      code: 0,
      stdout:
        '✔ passing/.github/qualityfoundry.yml: valid (mode strict, 1 plan rule, 3 gate rules)\n✔ approval/.github/qualityfoundry.yml: valid (mode strict, 1 plan rule, 1 gate rule)\n',
      stderr: '',
    });
  });

  it('reports every file with problems and exits 2', async () => {
    const broken = path.join(PROJECTS_DIR, 'broken-policy/.github/qualityfoundry.yml');
    const missing = path.join(PROJECTS_DIR, 'no-such-policy.yml');
    const result = await qf(['validate', 'passing/.github/qualityfoundry.yml', 'broken-policy/.github/qualityfoundry.yml', 'no-such-policy.yml'], PROJECTS_DIR);
    expect(result.code).toBe(ExitCode.badInput);
    expect(result.stdout).toBe('✔ passing/.github/qualityfoundry.yml: valid (mode strict, 1 plan rule, 3 gate rules)\n');
    expect(result.stderr).toBe(
      [
        `✗ Policy ${broken} has 3 problems:`,
        `${broken}:3:20: sandbox.timeout_seconds: expected number, got "ten"`,
        `${broken}:8:10: plan[0].run: unknown tool "run_pytset"; did you mean "run_pytest"?`,
        `${broken}:10:51: gate[0].op: expected one of "=="|"!="|"<"|"<="|">"|">=", got "=<"; did you mean "=="?`,
        `✗ Cannot read policy file ${missing}: no such file. Expected a YAML policy (see policies/default.yaml).`,
        '',
      ].join('\n'),
    );
  });

  it('needs at least one file', async () => {
    expect(await qf(['validate'], PROJECTS_DIR)).toEqual({
      code: ExitCode.badInput,
      stdout: '',
      stderr: 'qf validate: expected at least one policy FILE\nUsage: qf validate FILE...\n',
    });
  });
});

describe('qf schema and qf metrics', () => {
  it('prints the policy JSON Schema, and the evidence schema with --evidence', async () => {
    const policy = await qf(['schema'], REPO_ROOT);
    expect(policy.code).toBe(0);
    const schema = JSON.parse(policy.stdout) as { $schema: string; required: string[]; properties: Record<string, unknown>; additionalProperties: boolean };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['version']);
    expect(Object.keys(schema.properties)).toEqual(['version', 'mode', 'sandbox', 'budget', 'tools', 'plan', 'approval', 'gate', 'require_steps', 'gateway']);
    expect(schema.additionalProperties).toBe(false);
    const evidence = JSON.parse((await qf(['schema', '--evidence'], REPO_ROOT)).stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(evidence.properties)).toEqual(expect.arrayContaining(['schemaVersion', 'complete', 'repro', 'plan', 'gate', 'artifacts', 'audit']));
    const suite = JSON.parse((await qf(['schema', '--eval-suite'], REPO_ROOT)).stdout) as { required: string[]; properties: Record<string, unknown> };
    expect([suite.required, Object.keys(suite.properties)]).toEqual([
      ['name', 'target'],
      ['name', 'description', 'target', 'timeout_seconds', 'threshold', 'repeat', 'min_passes', 'assert', 'cases', 'cases_file', 'cache'],
    ]);
  });

  it('lists the metrics gate rules may use', async () => {
    const result = await qf(['metrics'], REPO_ROOT);
    expect(result.code).toBe(0);
    const names = result.stdout.split('\n').map((row) => /^\| `([^`]+)` \|/.exec(row)?.[1]);
    expect(names).toEqual(
      expect.arrayContaining(['steps.timed_out', 'pytest.failed', 'pytest.pass_rate', 'command.<name>.exit_code', 'evals.pass_rate', 'evals.<name>.pass_rate']),
    );
  });

  it('exits 2 on an unknown command, with the help', async () => {
    const result = await qf(['frobnicate'], REPO_ROOT);
    expect(result.code).toBe(ExitCode.badInput);
    expect(result.stderr.split('\n')[0]).toBe('qf: unknown command "frobnicate".');
    expect(result.stderr).toContain('Exit codes: 0 pass · 1 gate failed or blocked · 2 bad input or configuration · 3 waiting for a human');
  });
});

describe('qf golden', () => {
  it('runs the committed golden dataset and exits 0', async () => {
    const result = await qf(['golden'], REPO_ROOT);
    expect(result.stdout).toMatch(/golden: (\d+) passed, 0 failed\n$/);
    expect(Number(/golden: (\d+) passed/.exec(result.stdout)![1])).toBeGreaterThanOrEqual(12);
    expect(result.stdout).not.toContain('✗');
    expect(result.code).toBe(0);
  });
});

describe('qf verify', () => {
  let repo: TempGitRepo;
  let goodOut: string;
  let work: { dir: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    repo = await tempGitRepo('failing');
    work = await tempDir();
    goodOut = path.join(work.dir, 'good');
    const run = await qf(['run', '--repo', repo.dir, '--out', goodOut], repo.dir);
    expect(run.code).toBe(ExitCode.gateFailed);
  });
  afterAll(async () => {
    await repo.cleanup();
    await work.cleanup();
  });

  /** A fresh copy of the good evidence folder to tamper with. */
  async function copyOfEvidence(name: string): Promise<string> {
    const dir = path.join(work.dir, name);
    await cp(goodOut, dir, { recursive: true });
    return dir;
  }

  async function editEvidence(dir: string, edit: (evidence: Evidence) => void): Promise<void> {
    const file = path.join(dir, 'evidence.json');
    const evidence = JSON.parse(await readFile(file, 'utf8')) as Evidence;
    edit(evidence);
    await writeFile(file, JSON.stringify(evidence, null, 2));
  }

  it('writes evidence of schema version 2, with no warmStart on any step', async () => {
    const evidence = JSON.parse(await readFile(path.join(goodOut, 'evidence.json'), 'utf8')) as Evidence;
    expect(evidence.schemaVersion).toBe(2);
    expect(evidence.steps[0]?.sandbox).toBeDefined();
    expect(Object.keys(evidence.steps[0]!.sandbox!)).not.toContain('warmStart');
  });

  it('accepts a version-1 bundle written by qf before warm start was removed, and returns it as version 2', async () => {
    const result = await qf(['verify', V1_BUNDLE], work.dir);
    expect(result).toEqual({
      code: 0,
      stdout: `✔ ${V1_BUNDLE}: 2 artifacts match their digests; audit chain of 13 events intact; signature not checked (no --key); verdict fail\n`,
      stderr: '',
    });
    const check = await verifyEvidence(V1_BUNDLE);
    if (!check.ok) throw new Error(check.problem);
    expect(check.evidence.schemaVersion).toBe(2);
    expect(check.evidence.steps[0]?.sandbox?.exitCode).toBe(1);
    expect(Object.keys(check.evidence.steps[0]!.sandbox!)).not.toContain('warmStart');
  });

  it("checks a version-1 bundle's seal over its warmStart too", async () => {
    const dir = path.join(work.dir, 'v1-edited');
    await cp(V1_BUNDLE, dir, { recursive: true });
    const file = path.join(dir, 'evidence.json');
    const evidence = JSON.parse(await readFile(file, 'utf8')) as { steps: { sandbox: { warmStart: unknown } }[] };
    expect(evidence.steps[0]!.sandbox.warmStart).toEqual({ used: true });
    evidence.steps[0]!.sandbox.warmStart = { used: false, reason: 'edited' };
    await writeFile(file, JSON.stringify(evidence, null, 2));
    expect((await qf(['verify', dir], work.dir)).stderr).toMatch(/: evidence\.json was changed after it was sealed/);
  });

  it('accepts untouched evidence, by folder or by file', async () => {
    const byDir = await qf(['verify', goodOut], work.dir);
    expect(byDir.code).toBe(0);
    expect(byDir.stdout).toMatch(
      /^✔ .+: 2 artifacts match their digests; audit chain of \d+ events intact; signature not checked \(no --key\); verdict fail\n$/,
    );
    expect((await qf(['verify', 'good/evidence.json'], work.dir)).code).toBe(0);
  });

  it('names a report whose bytes were changed (same size)', async () => {
    const dir = await copyOfEvidence('report-edited');
    const report = path.join(dir, 'reports/unit/junit.xml');
    const original = await readFile(report, 'utf8');
    await writeFile(report, original.replace('failures="1"', 'failures="0"'));
    const result = await qf(['verify', dir], work.dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^✗ .+: artifact reports\/unit\/junit\.xml has sha256 [0-9a-f]{64}, evidence says [0-9a-f]{64}\n$/);
  });

  it('names a report that grew or disappeared', async () => {
    const grown = await copyOfEvidence('report-grown');
    const report = path.join(grown, 'reports/unit/junit.xml');
    const size = (await readFile(report)).length;
    await writeFile(report, `${await readFile(report, 'utf8')}<!-- -->`);
    expect((await qf(['verify', grown], work.dir)).stderr).toContain(`artifact reports/unit/junit.xml has ${size + 8} bytes, evidence says ${size}`);
    const gone = await copyOfEvidence('report-gone');
    await rm(path.join(gone, 'summary.md'));
    const result = await qf(['verify', gone], work.dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('artifact summary.md is missing');
  });

  it('names a verdict changed inside evidence.json', async () => {
    const dir = await copyOfEvidence('verdict-edited');
    await editEvidence(dir, (evidence) => {
      evidence.gate.verdict = 'pass';
    });
    const result = await qf(['verify', dir], work.dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/: evidence\.json was changed after it was sealed \(seal digest [0-9a-f]{12}…, content digest [0-9a-f]{12}…\)\n$/);
  });

  it('names the audit event that was edited', async () => {
    const dir = await copyOfEvidence('audit-edited');
    await editEvidence(dir, (evidence) => {
      evidence.audit[2]!.data = { ...evidence.audit[2]!.data, steps: [] };
    });
    const result = await qf(['verify', dir], work.dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(': audit chain broken at seq 3: hash does not match the content of seq 3\n');
  });

  it('names an audit event that was removed', async () => {
    const dir = await copyOfEvidence('audit-removed');
    await editEvidence(dir, (evidence) => {
      evidence.audit.splice(4, 1);
    });
    expect((await qf(['verify', dir], work.dir)).stderr).toContain(': audit chain broken at seq 5: expected seq 5, found 6\n');
  });

  it('refuses evidence that does not match the schema, and a missing target', async () => {
    const dir = await copyOfEvidence('schema-broken');
    await editEvidence(dir, (evidence) => {
      (evidence as { schemaVersion: number }).schemaVersion = 3;
    });
    const result = await qf(['verify', dir], work.dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('does not match the evidence schema v2: schemaVersion: Invalid input: expected 2');
    // A target that does not exist is bad input (2), not evidence that failed the check (1).
    const missing = await qf(['verify', '/nonexistent'], work.dir);
    expect(missing).toEqual({
      code: ExitCode.badInput,
      stdout: '',
      stderr: 'qf: /nonexistent does not exist; expected an evidence folder or its evidence.json.\n',
    });
  });
});
