import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { PsmpEngine } from '../../src/governance/index.js';
import { formatProblem } from '../../src/policy/policy-error.js';
import { openStore } from '../../src/store/index.js';
import { startInProcessMcp, startStdioMcp, structured, type StdioMcp } from '../support/mcp-stdio-client.js';
import { tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const PROJECT = 'local/repo';
const INGESTED = 'gh:octo-org/app:77.1';
let repo: TempGitRepo;
let work: { dir: string; cleanup: () => Promise<void> };
let db: string;
let evidence: Evidence;
let mcp: StdioMcp;

const cliIo = () => {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: (text: string) => void (out.stdout += text),
      stderr: (text: string) => void (out.stderr += text),
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      cwd: work.dir,
    },
  };
};

beforeAll(async () => {
  repo = await tempGitRepo('failing');
  work = await tempDir('qf-mcp-read-');
  db = path.join(work.dir, 'qf.db');
  // A real run recorded the way a user records one: one test fails at tests/test_totals.py:7.
  const run = cliIo();
  expect(await main(['run', '--repo', repo.dir, '--out', path.join(work.dir, 'out'), '--db', db], run.io)).toBe(1);
  evidence = JSON.parse(await readFile(path.join(work.dir, 'out', 'evidence.json'), 'utf8'));
  const store = await openStore({ dbPath: db });
  try {
    // A shard of the same iteration that disagrees: a real PSMP conflict.
    await new PsmpEngine(store, { mode: 'strict' }).declare({
      projectId: PROJECT,
      type: 'step:unit',
      producer: 'shard-2',
      iteration: 1,
      digest: 'e'.repeat(64),
    });
    // A run the bot ingested keeps rules and reasons, not evidence.json.
    await store.upsertProject({ id: 'octo-org/app', createdAt: '2026-01-01T00:00:00.000Z' });
    await store.upsertRun({
      id: INGESTED,
      projectId: 'octo-org/app',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:01:00.000Z',
      mode: 'strict',
      verdict: 'fail',
      headSha: 'a'.repeat(40),
      data: {
        reasons: ['Rule tests-pass failed: pytest.failed is 2, expected == 0'],
        rules: [{ id: 'tests-pass', metric: 'pytest.failed', op: '==', expected: 0, observed: 2, status: 'fail', reason: 'pytest.failed is 2, expected == 0' }],
        steps: [{ id: 'unit', tool: 'run_pytest', status: 'failed', durationMs: 10, attempts: 1 }],
      },
    });
  } finally {
    await store.close();
  }
});

afterAll(async () => {
  await repo?.cleanup();
  await work?.cleanup();
});

describe.each([
  ['a child process', startStdioMcp],
  ['this process (main)', startInProcessMcp],
])('qf mcp over stdio in %s: the read tools on a store filled by qf run --db', (_where, start) => {
  beforeAll(async () => {
    mcp = await start(['--db', db]);
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('lists every read tool with its input schema and readOnlyHint', async () => {
    const { tools } = await mcp.client.listTools();
    const read = ['explain_metric', 'get_audit_trail', 'get_compliance_report', 'get_run_summary', 'list_conflicts', 'list_runs', 'validate_policy'];
    expect(
      tools
        .map((tool) => tool.name)
        .filter((name) => read.includes(name))
        .sort(),
    ).toEqual(read);
    for (const tool of tools.filter((candidate) => read.includes(candidate.name))) {
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(true);
      expect(tool.inputSchema.type).toBe('object');
    }
    expect(tools.find((tool) => tool.name === 'list_runs')?.inputSchema.required).toEqual(['project']);
  });

  it('list_runs: the project’s runs with their verdicts', async () => {
    const result = structured<{ total: number; runs: Array<{ id: string; verdict: string }> }>(
      await mcp.client.callTool({ name: 'list_runs', arguments: { project: PROJECT } }),
    );
    expect(result.total).toBe(1);
    expect(result.runs).toEqual([expect.objectContaining({ id: evidence.runId, verdict: 'fail' })]);
  });

  it('get_run_summary: verdict, the failed rule observed vs expected, the failed test at file:line', async () => {
    const summary = structured<Record<string, any>>(await mcp.client.callTool({ name: 'get_run_summary', arguments: { runId: evidence.runId } }));
    expect(summary.verdict).toBe('fail');
    expect(summary.failedRules).toEqual([expect.objectContaining({ id: 'no-failures', metric: 'pytest.failed', op: '==', expected: 0, observed: 1 })]);
    expect(summary.failedTests).toEqual([expect.objectContaining({ location: 'tests/test_totals.py:7', outcome: 'failed' })]);
    expect(summary.failedTests[0].id).toContain('test_total_of_three_items');
    expect(summary.steps).toEqual([expect.objectContaining({ id: 'unit', status: 'failed', tests: expect.objectContaining({ total: 2, failed: 1 }) })]);
    expect(summary.evidenceUri).toBe(`qf://runs/${evidence.runId}/evidence.json`);
  });

  it('get_run_summary of an ingested run: rules and reasons from the store, and says that tests are not kept', async () => {
    const summary = structured<Record<string, any>>(await mcp.client.callTool({ name: 'get_run_summary', arguments: { runId: INGESTED } }));
    expect(summary).toMatchObject({ verdict: 'fail', failedTests: null, evidenceUri: null, failedRules: [{ id: 'tests-pass', observed: 2 }] });
    expect(summary.note).toContain('not per-test results');
  });

  it('an unknown run is a not_found tool error, not a crash', async () => {
    const result = await mcp.client.callTool({ name: 'get_run_summary', arguments: { runId: 'no-such-run' } });
    expect(result.isError).toBe(true);
    expect(structured(result)).toEqual({ error: { code: 'not_found', message: 'no run "no-such-run" in the store' } });
  });

  it('the evidence resource serves the run’s evidence.json', async () => {
    const read = await mcp.client.readResource({ uri: `qf://runs/${evidence.runId}/evidence.json` });
    const content = read.contents[0] as { text: string; mimeType: string };
    expect(content.mimeType).toBe('application/json');
    expect(JSON.parse(content.text)).toEqual(evidence);
    await expect(mcp.client.readResource({ uri: `qf://runs/${encodeURIComponent(INGESTED)}/evidence.json` })).rejects.toThrow(
      /not_found: run "gh:octo-org\/app:77.1" was ingested/,
    );
  });

  it('list_conflicts: the shard that disagreed', async () => {
    const result = structured<{ conflicts: Array<Record<string, unknown>> }>(
      await mcp.client.callTool({ name: 'list_conflicts', arguments: { project: PROJECT } }),
    );
    expect(result.conflicts).toEqual([expect.objectContaining({ kind: 'duplicate_producer', projectId: PROJECT })]);
    const resolved = structured<{ conflicts: unknown[] }>(
      await mcp.client.callTool({ name: 'list_conflicts', arguments: { project: PROJECT, status: ['resolved'] } }),
    );
    expect(resolved.conflicts).toEqual([]);
  });

  it('get_audit_trail: the run’s chain as evidence.json holds it, verified', async () => {
    const trail = structured<{ verified: boolean; total: number; events: Array<{ seq: number; action: string; hash: string }> }>(
      await mcp.client.callTool({ name: 'get_audit_trail', arguments: { runId: evidence.runId } }),
    );
    expect(trail.verified).toBe(true);
    expect(trail.events.map((event) => event.hash)).toEqual(evidence.audit.map((event) => event.hash));
    expect(trail.events.at(-1)?.action).toBe('evidence.sealed');
  });

  it('get_compliance_report: the gate decision, in JSON and Markdown as qf report renders it', async () => {
    const report = structured<{ gateDecisions: Array<{ verdict: string }>; integrity: { ok: boolean } }>(
      await mcp.client.callTool({ name: 'get_compliance_report', arguments: { project: PROJECT, since: '2000-01-01' } }),
    );
    expect(report.gateDecisions.map((decision) => decision.verdict)).toEqual(['fail']);
    expect(report.integrity.ok).toBe(true);
    const md = await mcp.client.callTool({ name: 'get_compliance_report', arguments: { project: PROJECT, since: '2000-01-01', format: 'md' } });
    expect((md.content as Array<{ text: string }>)[0]?.text).toContain(PROJECT);
    const bad = await mcp.client.callTool({ name: 'get_compliance_report', arguments: { project: PROJECT, since: '2000-13-45' } });
    expect(bad.isError).toBe(true);
    expect((bad.content as Array<{ text: string }>)[0]?.text).toMatch(/since/);
  });

  it('validate_policy: the same problems as qf validate, with line and column', async () => {
    const text = 'version: 1\nmode: strictest\ngate:\n  - { id: t, metric: pytest.flaky, op: "==", value: 0 }\n';
    const file = path.join(work.dir, 'broken.yml');
    await writeFile(file, text);
    const cli = cliIo();
    expect(await main(['validate', file], cli.io)).toBe(2);
    const result = structured<{ valid: boolean; problems: Array<{ file: string; line: number; column: number; path: string; message: string }> }>(
      await mcp.client.callTool({ name: 'validate_policy', arguments: { text, path: file } }),
    );
    expect(result.valid).toBe(false);
    expect(result.problems.map((problem) => [problem.line, problem.path])).toEqual([
      [2, 'mode'],
      [4, 'gate[0].metric'],
    ]);
    for (const problem of result.problems) expect(cli.out.stderr).toContain(formatProblem(problem));
    const ok = structured<{ valid: boolean }>(
      await mcp.client.callTool({ name: 'validate_policy', arguments: { text: await readFile(path.join(repo.dir, '.github/qualityfoundry.yml'), 'utf8') } }),
    );
    expect(ok.valid).toBe(true);
  });

  it('explain_metric: what a metric measures and who publishes it; an unknown one with the known ones', async () => {
    expect(structured(await mcp.client.callTool({ name: 'explain_metric', arguments: { metric: 'pytest.failed' } }))).toMatchObject({
      known: true,
      pattern: 'pytest.failed',
      publishedBy: 'the run_pytest tool',
    });
    expect(structured(await mcp.client.callTool({ name: 'explain_metric', arguments: { metric: 'command.lint.exit_code' } }))).toMatchObject({
      known: true,
      pattern: 'command.<name>.exit_code',
    });
    const unknown = structured<{ known: boolean; meaning: string }>(
      await mcp.client.callTool({ name: 'explain_metric', arguments: { metric: 'pytest.flaky' } }),
    );
    expect(unknown.known).toBe(false);
    expect(unknown.meaning).toContain('pytest.failed');
  });

  it('input outside a tool’s schema is an invalid-params error and the server keeps serving', async () => {
    const result = await mcp.client.callTool({ name: 'list_runs', arguments: { project: 'not a repo' } });
    expect(result.isError).toBe(true);
    expect((result.content as Array<{ text: string }>)[0]?.text).toMatch(/Input validation error.*OWNER\/NAME/s);
    await expect(
      mcp.client.request({ method: 'no/such/method' } as never, (await import('@modelcontextprotocol/sdk/types.js')).EmptyResultSchema),
    ).rejects.toMatchObject({ code: -32601 });
    expect(structured<{ total: number }>(await mcp.client.callTool({ name: 'list_runs', arguments: { project: PROJECT } })).total).toBe(1);
  });
});
