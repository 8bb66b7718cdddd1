import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EvidenceSchema } from '../../src/evidence/schema.js';
import { annotationsFromEvidence } from '../../src/github/annotations-from-evidence.js';
import { readZip } from '../../src/github/extract-zip.js';
import { gateOutput } from '../../src/github/gate-output.js';
import { byteLength } from '../../src/github/limits.js';
import { renderSummary } from '../../src/report/render-summary.js';
import { type Harness, PR_NUMBER, resetHarness, RUN_ID, runOnPullRequest, startHarness } from '../support/action-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { createFixtureRepo, FAILING_CHANGE, PASSING_CHANGE } from '../support/python-project.js';

const REPO_PATH = '/repos/Codertocat/Hello-World';
let failingEvidencePath = '';

let harness: Harness;
beforeAll(async () => {
  denyNetwork();
  harness = await startHarness();
});
afterAll(() => harness.close());
beforeEach(() => resetHarness(harness));

/** Requests with the parts that change from run to run (timings, digests, ids) left out. */
function shape(request: { method: string; path: string; query: Record<string, string>; body: unknown }) {
  const body = request.body as Record<string, any> | undefined;
  const output = body?.output as Record<string, any> | undefined;
  return {
    method: request.method,
    path: request.path.replace(REPO_PATH, '{repo}'),
    ...(Object.keys(request.query).length ? { query: request.query } : {}),
    ...(body
      ? {
          body: {
            ...Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'output')),
            ...(output
              ? {
                  output: {
                    title: output.title,
                    annotations: output.annotations?.length ?? 0,
                    summaryBytes: Buffer.byteLength(output.summary ?? ''),
                    text: output.text === undefined ? 'none' : 'sent',
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}

describe('run() on a pull request', () => {
  it('passes a green pull request: check run in_progress → completed success, job summary, outputs, artifact', async () => {
    const repo = await createFixtureRepo(PASSING_CHANGE);
    const result = await runOnPullRequest(harness, repo);

    expect(result.exitCode).toBe(0);
    expect(harness.github.requests.map(shape)).toEqual([
      {
        method: 'POST',
        path: '{repo}/check-runs',
        body: {
          name: 'qualityfoundry/gate',
          head_sha: repo.headSha,
          status: 'in_progress',
          details_url: `https://github.com/Codertocat/Hello-World/actions/runs/${RUN_ID}`,
          output: { title: 'Quality gate running', annotations: 0, summaryBytes: expect.any(Number), text: 'none' },
        },
      },
      { method: 'GET', path: `{repo}/pulls/${PR_NUMBER}/files`, query: { per_page: '100' } },
      { method: 'GET', path: '{repo}/contents/.github%2Fqualityfoundry.yml', query: { ref: repo.baseSha } },
      {
        method: 'PATCH',
        path: '{repo}/check-runs/1000',
        body: { output: { title: 'Quality gate running', annotations: 0, summaryBytes: expect.any(Number), text: 'none' } },
      },
      {
        method: 'PATCH',
        path: '{repo}/check-runs/1000',
        body: {
          status: 'completed',
          conclusion: 'success',
          output: { title: expect.stringMatching(/^Quality gate passed/), annotations: 0, summaryBytes: expect.any(Number), text: 'sent' },
        },
      },
    ]);
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({ name: 'qualityfoundry/gate', head_sha: repo.headSha, status: 'completed', conclusion: 'success' });
    const artifact = harness.artifacts.artifacts[0]!;
    expect(gate.output.summary).toContain(`(id ${artifact.id})`);
    expect(gate.output.summary).toContain(artifact.digest!.replace('sha256:', ''));

    expect(result.outputs).toEqual({
      verdict: 'pass',
      'plan-hash': expect.stringMatching(/^[0-9a-f]{64}$/),
      'evidence-path': join(result.runnerTemp, 'qualityfoundry-evidence', 'evidence.json'),
      'check-run-id': '1000',
    });
    expect(result.jobSummary).toContain('Passed');

    // The artifact service got the real protocol: CreateArtifact, block upload, FinalizeArtifact with the zip's digest.
    expect(
      harness.artifacts.calls.map(
        (call) =>
          `${call.method} ${call.path.replace(/^\/twirp\/github\.actions\.results\.api\.v1\.ArtifactService\//, 'twirp:')}${call.query.comp ? `?comp=${call.query.comp}` : ''}`,
      ),
    ).toEqual([
      'POST twirp:CreateArtifact',
      'PUT /blob/9000/qualityfoundry-evidence.zip?comp=block',
      'PUT /blob/9000/qualityfoundry-evidence.zip?comp=blocklist',
      'POST twirp:FinalizeArtifact',
    ]);
    expect(harness.artifacts.calls[0]!.body).toMatchObject({
      workflow_run_backend_id: 'run-backend-1',
      workflow_job_run_backend_id: 'job-backend-1',
      name: 'qualityfoundry-evidence',
      version: 7,
    });
    const files = readZip(artifact.blob!);
    const names = files.map((file) => file.name).sort();
    expect(names).toContain('evidence.json');
    expect(names).toContain('summary.md');
    expect(names.some((name) => name.endsWith('junit.xml'))).toBe(true);
    const uploaded = files.find((file) => file.name === 'evidence.json')!.data;
    expect(uploaded.equals(await readFile(result.outputs['evidence-path']!))).toBe(true);
    expect(JSON.parse(uploaded.toString('utf8'))).toMatchObject({ change: { head: repo.headSha, base: repo.baseSha }, gate: { verdict: 'pass' } });
  });

  it('fails a pull request with 120 failing tests: 3 annotation requests of 50/50/20, outputs, exit code 1', async () => {
    const repo = await createFixtureRepo(FAILING_CHANGE);
    const result = await runOnPullRequest(harness, repo);

    expect(result.exitCode).toBe(1);
    const patches = harness.github.requests.filter((request) => request.method === 'PATCH');
    const annotated = patches.filter((request) => ((request.body as any).output?.annotations?.length ?? 0) > 0);
    expect(annotated.map((request) => (request.body as any).output.annotations.length)).toEqual([50, 50, 20]);
    expect((annotated[0]!.body as any).conclusion).toBe('failure');
    expect((annotated[1]!.body as any).conclusion).toBeUndefined();
    expect((annotated[0]!.body as any).output.annotations[0]).toMatchObject({
      path: 'tests/test_many.py',
      start_line: expect.any(Number),
      end_line: expect.any(Number),
      annotation_level: 'failure',
      title: 'Failed: tests/test_many.py::test_many[0]',
      message: expect.stringContaining('case 0 is not negative'),
    });
    const gate = harness.github.checkRuns[0]!;
    expect(gate.annotations).toHaveLength(120);
    expect(gate.conclusion).toBe('failure');
    expect(gate.output.summary).toMatch(/tests-pass/);
    expect(result.outputs.verdict).toBe('fail');
    expect(result.jobSummary).toContain('Failed');
    failingEvidencePath = result.outputs['evidence-path']!;
  });

  it('cuts what GitHub would refuse: summary/text ≤ 65535 bytes, titles ≤ 255 chars, messages ≤ 64 KB, with a pointer', async () => {
    // The failing run's real evidence, blown up past every limit.
    const evidence = EvidenceSchema.parse(JSON.parse(await readFile(failingEvidencePath, 'utf8')));
    const step = evidence.steps[0]!;
    const [sample] = step.tests!.notable;
    step.tests!.notable = Array.from({ length: 3000 }, (_, index) => ({
      ...sample!,
      id: `tests/test_many.py::${'very_long_name_'.repeat(100)}${index}`,
      message: `€ ${'x'.repeat(70_000)}`,
      details: 'y'.repeat(70_000),
    }));
    step.sandbox!.stdoutTail = 'z'.repeat(200_000);
    const pointer = 'Full evidence: artifact `qualityfoundry-evidence` (id 9001).';
    const output = gateOutput(renderSummary(evidence, { artifact: { name: 'qualityfoundry-evidence', id: 9001 } }), ['A notice.'], evidence, pointer);
    expect(byteLength(output.summary)).toBeLessThanOrEqual(65535);
    expect(byteLength(output.text)).toBeLessThanOrEqual(65535);
    expect(output.summary.startsWith('## ❌ **Failed**')).toBe(true);
    expect(output.summary).toContain('A notice.');
    expect(output.summary.endsWith(pointer)).toBe(true);
    const annotations = annotationsFromEvidence(evidence);
    expect(annotations).toHaveLength(3000);
    for (const annotation of annotations.slice(0, 3)) {
      expect(annotation.title!.length).toBeLessThanOrEqual(255);
      expect(byteLength(annotation.message)).toBeLessThanOrEqual(64 * 1024);
      expect(byteLength(annotation.raw_details!)).toBeLessThanOrEqual(64 * 1024);
    }
  });
});
