import { generateKeyPairSync } from 'node:crypto';
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/action/run.js';
import { readZip } from '../../src/github/extract-zip.js';
import {
  FAST_TUNING,
  type Harness,
  loadFixture,
  prepareRun,
  readOutputs,
  resetHarness,
  runOnPullRequest,
  seedPullRequest,
  startHarness,
  withRunnerEnv,
} from '../support/action-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { createFixtureRepo, FAILING_CHANGE, type FixtureRepo } from '../support/python-project.js';
import { writeZip, type ZipWriterEntry } from '../support/zip-writer.js';
import { hashAuditEvent } from '../../src/audit/audit-chain.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { evidenceSealDigest } from '../../src/evidence/write-evidence.js';

let harness: Harness;
let repo: FixtureRepo;
let evidenceZip: Buffer;

beforeAll(async () => {
  denyNetwork();
  harness = await startHarness();
  // The untrusted half: a fork's pull request runs the gate with a read-only token and uploads its evidence.
  repo = await createFixtureRepo(FAILING_CHANGE);
  harness.github.readOnly = true;
  const prRun = await runOnPullRequest(harness, repo, { fork: true });
  expect(prRun.exitCode).toBe(1);
  evidenceZip = harness.artifacts.artifacts[0]!.blob!;
});
afterAll(() => harness.close());

/** The trusted half: a workflow_run job with a write token, fed the artifact of run `runId`. */
async function publish(runId: number, inputs: Record<string, string> = {}, attempt = 1) {
  resetHarnessKeepingArtifacts();
  seedPullRequest(harness.github, repo, { headOwner: 'forker' });
  const payload = await loadFixture('workflow_run.completed.json');
  Object.assign(payload.workflow_run, {
    id: runId,
    event: 'pull_request',
    head_sha: repo.headSha,
    head_branch: 'changes',
    pull_requests: [],
    conclusion: 'failure',
    run_attempt: attempt,
  });
  payload.workflow_run.head_repository.owner.login = 'forker';
  const prepared = await prepareRun(harness, { eventName: 'workflow_run', payload, workspace: repo.dir, runId: 999, inputs: { mode: 'publish', ...inputs } });
  const exitCode = await withRunnerEnv(prepared.env, () => run({ tuning: FAST_TUNING }));
  return { exitCode, outputs: await readOutputs(prepared.outputFile), runnerTemp: prepared.runnerTemp };
}

function resetHarnessKeepingArtifacts(): void {
  const kept = [...harness.artifacts.artifacts];
  resetHarness(harness);
  harness.artifacts.artifacts.push(...kept);
}

function tamper(zip: Buffer, edit: (evidence: Record<string, any>) => void): Buffer {
  const entries = readZip(zip);
  const file = entries.find((entry) => entry.name === 'evidence.json')!;
  const evidence = JSON.parse(file.data.toString('utf8'));
  edit(evidence);
  file.data = Buffer.from(JSON.stringify(evidence, null, 2));
  return writeZip(entries);
}

describe('run() in publish mode (workflow_run)', () => {
  it('downloads the evidence of the pull request run, validates it, finds the PR by head SHA and publishes', async () => {
    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 201, zip: evidenceZip });
    const result = await publish(201);

    expect(result.exitCode).toBe(0);
    expect(
      harness.github.requests.map(
        (request) =>
          `${request.method} ${request.path}${request.query.head ? `?head=${request.query.head}` : ''}${request.query.name ? `?name=${request.query.name}` : ''}`,
      ),
    ).toEqual([
      'GET /repos/Codertocat/Hello-World/actions/runs/201/artifacts?name=qualityfoundry-evidence',
      'GET /repos/Codertocat/Hello-World/actions/artifacts/9001/zip',
      'GET /repos/Codertocat/Hello-World/pulls?head=forker:changes',
      'GET /repos/Codertocat/Hello-World/contents/.github%2Fqualityfoundry.yml',
      'POST /repos/Codertocat/Hello-World/check-runs',
      'PATCH /repos/Codertocat/Hello-World/check-runs/1000',
      'PATCH /repos/Codertocat/Hello-World/check-runs/1000',
    ]);
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({
      name: 'qualityfoundry/gate',
      head_sha: repo.headSha,
      conclusion: 'failure',
      details_url: 'https://github.com/Codertocat/Hello-World/actions/runs/201',
    });
    expect(gate.annotations).toHaveLength(120);
    expect(gate.output.summary).toContain('Reported by workflow run 201');
    expect(result.outputs.verdict).toBe('fail');
  });

  it("publishes a re-run's own evidence: attempt 2 of run 213 reads the artifact of attempt 2, not attempt 1's", async () => {
    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 213, zip: tamper(evidenceZip, (e) => void (e.gate.verdict = 'pass')) });
    harness.artifacts.seed({ name: 'qualityfoundry-evidence-attempt-2', runId: 213, zip: evidenceZip });
    const result = await publish(213, {}, 2);
    expect(harness.github.requests[0]).toMatchObject({
      method: 'GET',
      path: '/repos/Codertocat/Hello-World/actions/runs/213/artifacts',
      query: { name: 'qualityfoundry-evidence-attempt-2' },
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs.verdict).toBe('fail');
  });

  it('rejects a tampered artifact (verdict edited after sealing): failure check run, nothing of it reported, exit 2', async () => {
    const forged = tamper(evidenceZip, (evidence) => {
      evidence.gate.verdict = 'pass';
      evidence.gate.rules = [];
    });
    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 202, zip: forged });
    const result = await publish(202);

    expect(result.exitCode).toBe(2);
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({ conclusion: 'failure', output: { title: 'Evidence rejected: the artifact failed validation' } });
    expect(gate.output.summary).toContain('evidence.json was changed after it was sealed');
    expect(gate.annotations).toEqual([]);
    expect(result.outputs.verdict).toBe('blocked');
  });

  it('re-judges with the base policy: a forger who edits the verdict and re-seals the file is still caught', async () => {
    const forged = tamper(evidenceZip, (evidence) => {
      evidence.gate.verdict = 'pass';
      evidence.gate.rules = [];
      evidence.gate.reasons = ['All rules hold.'];
      // Anyone can recompute the seal: rebuild the last audit event exactly as qf would.
      const seal = evidence.audit.pop();
      seal.data.digest = evidenceSealDigest(evidence as Evidence);
      const { hash: _hash, ...unsealed } = seal;
      evidence.audit.push({ ...unsealed, hash: hashAuditEvent(unsealed) });
    });
    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 205, zip: forged });
    const result = await publish(205);

    expect(result.exitCode).toBe(2);
    const summary = harness.github.checkRuns[0]!.output.summary;
    expect(summary).not.toContain('changed after it was sealed');
    expect(summary).toContain("the evidence claims pass, the base policy's rules give fail");
    expect(result.outputs.verdict).toBe('blocked');
  });

  it('rejects an unknown member, which the schema would strip so that the seal still held', async () => {
    harness.artifacts.seed({
      name: 'qualityfoundry-evidence',
      runId: 206,
      zip: tamper(evidenceZip, (evidence) => void (evidence.gate.approvedBy = 'maintainer')),
    });
    const result = await publish(206);
    expect(result.exitCode).toBe(2);
    expect(harness.github.checkRuns[0]!.output.summary).toContain('has member the evidence schema v2 does not know: gate.approvedBy');
  });

  it('rejects a file the index does not list', async () => {
    harness.artifacts.seed({
      name: 'qualityfoundry-evidence',
      runId: 207,
      zip: writeZip([...readZip(evidenceZip), { name: 'reports/extra/junit.xml', data: Buffer.from('<testsuite/>') }]),
    });
    const result = await publish(207);
    expect(result.exitCode).toBe(2);
    expect(harness.github.checkRuns[0]!.output.summary).toContain('the evidence folder holds a file its index does not list: reports/extra/junit.xml');
  });

  it('signing-key signs the evidence in gate mode; verify-key in publish mode accepts only a bundle signed by that key and unchanged since', async () => {
    const key = generateKeyPairSync('ed25519');
    const privatePem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicPem = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    resetHarness(harness); // one artifact per name per run: the pull request run's upload must not collide
    const signedRun = await runOnPullRequest(harness, repo, { fork: true, inputs: { 'signing-key': privatePem } });
    expect(signedRun.exitCode).toBe(1);
    expect(signedRun.jobSummary).toContain('The evidence is signed (`evidence.dsse.json`');
    expect(signedRun.jobSummary).not.toContain('PRIVATE KEY');
    const signedZip = harness.artifacts.artifacts.at(-1)!.blob!;
    expect(readZip(signedZip).map((entry) => entry.name)).toContain('evidence.dsse.json');

    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 210, zip: signedZip });
    const accepted = await publish(210, { 'verify-key': publicPem });
    expect(accepted.exitCode).toBe(0);
    expect(harness.github.checkRuns[0]).toMatchObject({ conclusion: 'failure', output: { title: expect.not.stringContaining('Evidence rejected') } });

    // The unsigned bundle, and a signed one whose verdict was edited and re-sealed, are rejected.
    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 211, zip: evidenceZip });
    expect((await publish(211, { 'verify-key': publicPem })).exitCode).toBe(2);
    expect(harness.github.checkRuns[0]!.output.summary).toContain('evidence.dsse.json is missing: the bundle is not signed, and a key was given');
    const forged = tamper(signedZip, (evidence) => {
      evidence.gate.reasons = ['All rules hold.'];
      const seal = evidence.audit.pop();
      seal.data.digest = evidenceSealDigest(evidence as Evidence);
      const { hash: _hash, ...unsealed } = seal;
      evidence.audit.push({ ...unsealed, hash: hashAuditEvent(unsealed) });
    });
    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 212, zip: forged });
    expect((await publish(212, { 'verify-key': publicPem })).exitCode).toBe(2);
    expect(harness.github.checkRuns[0]!.output.summary).toContain('evidence.json is not the one that was signed');
  });

  it('rejects evidence that does not match the schema', async () => {
    harness.artifacts.seed({
      name: 'qualityfoundry-evidence',
      runId: 203,
      zip: tamper(evidenceZip, (evidence) => void (evidence.gate.verdict = 'approved-by-me')),
    });
    const result = await publish(203);
    expect(result.exitCode).toBe(2);
    expect(harness.github.checkRuns[0]!.output.summary).toMatch(/gate\.verdict/);
  });

  it('refuses a zip whose entries climb out of the download folder, writing nothing outside it', async () => {
    const entries = readZip(evidenceZip);
    const climbing = `../../qf-escape-${process.pid}.txt`;
    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 204, zip: writeZip([...entries, { name: climbing, data: Buffer.from('pwned') }]) });
    const result = await publish(204);
    expect(result.exitCode).toBe(2);
    const target = join(result.runnerTemp, 'qualityfoundry-published-evidence', climbing);
    await expect(access(target)).rejects.toThrow();
    await expect(access(join(dirname(result.runnerTemp), `qf-escape-${process.pid}.txt`))).rejects.toThrow();
    // Refused before validation, it is still reported on the commit as a rejected bundle.
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({ conclusion: 'failure', output: { title: 'Evidence rejected: the artifact failed validation' } });
    expect(gate.output.summary).toContain(`entry name "${climbing}" would land outside the folder`);
  });

  // Each of these made the extractor throw a plain error: publish mode ended in "Unexpected error" with no check run.
  it.each<[string, (entries: ZipWriterEntry[]) => ZipWriterEntry[], string]>([
    [
      'duplicate entries (a second evidence.json)',
      (entries) => [...entries, { name: 'evidence.json', data: Buffer.from('{}') }],
      'evidence.json appears twice',
    ],
    [
      'a file, then a folder of the same name',
      (entries) => [{ name: 'reports2', data: Buffer.from('x') }, ...entries, { name: 'reports2/x.txt', data: Buffer.from('y') }],
      'reports2/x.txt needs a folder reports2, and a file of that name is in the archive too',
    ],
    [
      'a size that lies',
      (entries) => entries.map((entry) => (entry.name === 'evidence.json' ? { ...entry, deflate: true, declaredSize: 100 } : entry)),
      'evidence.json: expands past the 100 bytes the directory says',
    ],
    ['a very long name', (entries) => [...entries, { name: `reports/${'a'.repeat(5_000)}`, data: Buffer.from('x') }], 'is 5008 bytes, more than 1024'],
    [
      'a CRC that does not match',
      (entries) =>
        entries.map((entry) => (entry.name === 'evidence.json' ? { ...entry, data: Buffer.alloc(0), deflate: false, declaredSize: 0, crc: 1 } : entry)),
      'evidence.json: its CRC-32 does not match its data',
    ],
  ])('rejects a malformed zip (%s) as invalid evidence on a failure check run, exit 2', async (_name, forge, message) => {
    const runId = 300 + harness.artifacts.artifacts.length;
    const entries: ZipWriterEntry[] = readZip(evidenceZip);
    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId, zip: writeZip(forge(entries)) });
    const result = await publish(runId);

    expect(result.exitCode).toBe(2);
    expect(harness.github.checkRuns).toHaveLength(1);
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({
      name: 'qualityfoundry/gate',
      head_sha: repo.headSha,
      conclusion: 'failure',
      output: { title: 'Evidence rejected: the artifact failed validation' },
    });
    expect(gate.output.summary).toContain(message);
    expect(gate.output.summary).not.toContain('Unexpected error');
    expect(result.outputs.verdict).toBe('blocked');
  });
});
