import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEvidence } from '../../src/evidence/verify-evidence.js';
import { extractZip } from '../../src/github/extract-zip.js';
import { type Harness, resetHarness, runOnPullRequest, startHarness } from '../support/action-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { type FakeSigstore, GITHUB_OIDC_ISSUER, startFakeSigstore } from '../support/fake-sigstore.js';
import { createFixtureRepo, type FixtureRepo, PASSING_CHANGE } from '../support/python-project.js';

let harness: Harness;
let sigstore: FakeSigstore;
let repo: FixtureRepo;
const unpacked: string[] = [];

beforeAll(async () => {
  denyNetwork();
  harness = await startHarness();
  sigstore = await startFakeSigstore();
  repo = await createFixtureRepo(PASSING_CHANGE);
});
afterAll(async () => {
  await harness?.close();
  await sigstore?.close();
  await rm(repo.dir, { recursive: true, force: true });
  for (const dir of unpacked) await rm(dir, { recursive: true, force: true });
});

/** The runner variables a job granted `id-token: write` has. */
const oidc = () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: sigstore.oidc.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: sigstore.oidc.requestToken });

async function uploadedEvidence(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'qf-keyless-artifact-'));
  unpacked.push(dir);
  await writeFile(`${dir}.zip`, harness.artifacts.artifacts.at(-1)!.blob!);
  await extractZip(`${dir}.zip`, dir);
  await rm(`${dir}.zip`);
  return dir;
}

describe('run() with sign-keyless (Sigstore: the job OIDC token, Fulcio, Rekor)', () => {
  it('signs the evidence as the workflow identity, and the uploaded bundle verifies against the trusted root', async () => {
    resetHarness(harness);
    const result = await runOnPullRequest(harness, repo, {
      inputs: { 'sign-keyless': 'true', 'sigstore-fulcio-url': sigstore.url, 'sigstore-rekor-url': sigstore.url },
      env: oidc(),
    });
    expect(result.exitCode).toBe(0);
    expect(result.jobSummary).toContain(`The evidence is signed keyless (\`evidence.sigstore.json\`, identity \`${sigstore.identity}\`)`);
    // The token was asked for with Sigstore's audience, then Fulcio and Rekor were called once each.
    expect(sigstore.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /oidc/token',
      'POST /api/v2/signingCert',
      'POST /api/v1/log/entries',
    ]);

    const dir = await uploadedEvidence();
    expect(await readdir(dir)).toContain('evidence.sigstore.json');
    const check = await verifyEvidence(dir, {
      keyless: { certificateIdentity: sigstore.identity, certificateOidcIssuer: GITHUB_OIDC_ISSUER, trustedRoot: sigstore.trustedRoot },
    });
    expect(check).toMatchObject({ ok: true, signedBy: sigstore.identity });
    // Another workflow's identity is refused.
    const other = await verifyEvidence(dir, {
      keyless: {
        certificateIdentity: 'https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/main',
        certificateOidcIssuer: GITHUB_OIDC_ISSUER,
        trustedRoot: sigstore.trustedRoot,
      },
    });
    expect(other).toMatchObject({ ok: false, problem: expect.stringContaining('evidence.sigstore.json does not verify') });
  });

  it('without `id-token: write` the job stops before anything runs (exit 2) and says what to grant', async () => {
    resetHarness(harness);
    const result = await runOnPullRequest(harness, repo, { inputs: { 'sign-keyless': 'true' } });
    expect(result.exitCode).toBe(2);
    expect(harness.github.checkRuns).toEqual([]);
  });

  it('when Fulcio cannot be reached the verdict stands, the evidence is uploaded unsigned, and the summary says so', async () => {
    resetHarness(harness);
    const result = await runOnPullRequest(harness, repo, {
      inputs: { 'sign-keyless': 'true', 'sigstore-fulcio-url': 'http://127.0.0.1:9', 'sigstore-rekor-url': sigstore.url },
      env: oidc(),
    });
    expect(result.exitCode).toBe(0);
    expect(result.jobSummary).toContain('The evidence could not be signed keyless');
    expect(await readdir(await uploadedEvidence())).not.toContain('evidence.sigstore.json');
  });
});
