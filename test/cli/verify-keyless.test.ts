import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import { signEvidenceKeyless } from '../../src/evidence/sigstore-evidence.js';
import { type FakeSigstore, startFakeSigstore } from '../support/fake-sigstore.js';
import { forgeAndReseal } from '../support/forge-evidence.js';
import { tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' };

async function qf(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: ENV, cwd });
  return { code, stdout, stderr };
}

/** A token as GitHub's OIDC endpoint hands it to a job granted `id-token: write`. */
async function identityToken(fake: FakeSigstore): Promise<string> {
  const response = await fetch(`${fake.oidc.requestUrl}&audience=sigstore`, { headers: { authorization: `Bearer ${fake.oidc.requestToken}` } });
  return ((await response.json()) as { value: string }).value;
}

describe('keyless signed evidence: qf verify --certificate-identity --trusted-root', () => {
  let repo: TempGitRepo;
  let work: { dir: string; cleanup: () => Promise<void> };
  let sigstore: FakeSigstore;
  let otherSigstore: FakeSigstore;
  let signed: string;
  let root: string;
  let otherRoot: string;

  beforeAll(async () => {
    repo = await tempGitRepo('failing');
    work = await tempDir();
    sigstore = await startFakeSigstore();
    // The same workflow identity, certified by a CA the verifier does not trust.
    otherSigstore = await startFakeSigstore();
    signed = path.join(work.dir, 'signed');
    expect((await qf(['run', '--repo', repo.dir, '--out', signed], repo.dir)).code).toBe(ExitCode.gateFailed);
    await signEvidenceKeyless(signed, { identityToken: await identityToken(sigstore), fulcioUrl: sigstore.url, rekorUrl: sigstore.url });
    root = path.join(work.dir, 'trusted-root.json');
    otherRoot = path.join(work.dir, 'other-root.json');
    await writeFile(root, JSON.stringify(sigstore.trustedRoot));
    await writeFile(otherRoot, JSON.stringify(otherSigstore.trustedRoot));
  });
  afterAll(async () => {
    await sigstore?.close();
    await otherSigstore?.close();
    await repo.cleanup();
    await work.cleanup();
  });

  async function copy(name: string): Promise<string> {
    const dir = path.join(work.dir, name);
    await cp(signed, dir, { recursive: true });
    return dir;
  }
  const verify = (dir: string, ...flags: string[]) =>
    qf(['verify', '--certificate-identity', sigstore.identity, '--trusted-root', root, ...flags, dir], work.dir);

  // No --certificate-oidc-issuer: GitHub Actions' issuer is the default, and the fake's tokens carry it.
  it('verifies: the certificate chains to the trusted CA and names the workflow, Rekor logged it, and the Statement is this evidence', async () => {
    const bundle = JSON.parse(await readFile(path.join(signed, 'evidence.sigstore.json'), 'utf8'));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    const result = await verify(signed);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(ExitCode.pass);
    expect(result.stdout).toContain(`signed by ${sigstore.identity}`);
  });

  it('refuses another identity, another issuer, and a CA the trusted root does not name', async () => {
    const wrongIdentity = await qf(
      ['verify', '--certificate-identity', 'https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/main', '--trusted-root', root, signed],
      work.dir,
    );
    expect(wrongIdentity.code).toBe(ExitCode.gateFailed);
    expect(wrongIdentity.stderr).toContain('evidence.sigstore.json does not verify');
    const wrongIssuer = await verify(signed, '--certificate-oidc-issuer', 'https://accounts.example.com');
    expect(wrongIssuer.code).toBe(ExitCode.gateFailed);
    const untrustedCa = await qf(['verify', '--certificate-identity', sigstore.identity, '--trusted-root', otherRoot, signed], work.dir);
    expect(untrustedCa.code).toBe(ExitCode.gateFailed);
    expect(untrustedCa.stderr).toContain('does not verify');
  });

  it('refuses evidence edited and re-sealed after signing, and a bundle whose signed payload was swapped', async () => {
    const forged = await copy('forged');
    await forgeAndReseal(forged, (evidence) => void (evidence.gate.reasons = ['All rules hold.']));
    const edited = await verify(forged);
    expect(edited.code).toBe(ExitCode.gateFailed);
    expect(edited.stderr).toContain('evidence.json is not the one that was signed');

    const swapped = await copy('swapped');
    const file = path.join(swapped, 'evidence.sigstore.json');
    const bundle = JSON.parse(await readFile(file, 'utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.predicate.verdict = 'pass';
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await writeFile(file, JSON.stringify(bundle));
    const result = await verify(swapped);
    expect(result.code).toBe(ExitCode.gateFailed);
    expect(result.stderr).toContain('does not verify');
  });

  it('an unsigned bundle fails when an identity is asked for; bad flags and roots are bad input (exit 2)', async () => {
    const unsigned = path.join(work.dir, 'unsigned');
    expect((await qf(['run', '--repo', repo.dir, '--out', unsigned], repo.dir)).code).toBe(ExitCode.gateFailed);
    const missing = await verify(unsigned);
    expect(missing.code).toBe(ExitCode.gateFailed);
    expect(missing.stderr).toContain('evidence.sigstore.json is missing: the bundle is not signed, and a certificate identity was given');

    const noRoot = await qf(['verify', '--certificate-identity', sigstore.identity, signed], work.dir);
    expect(noRoot.code).toBe(ExitCode.badInput);
    expect(noRoot.stderr).toContain('--certificate-identity needs --trusted-root FILE');
    const notJson = path.join(work.dir, 'not-a-root.json');
    await writeFile(notJson, 'trusted: maybe');
    const badRoot = await qf(['verify', '--certificate-identity', sigstore.identity, '--trusted-root', notJson, signed], work.dir);
    expect(badRoot.code).toBe(ExitCode.badInput);
    expect(badRoot.stderr).toContain('is not JSON');
  });
});
