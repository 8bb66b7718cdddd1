import { generateKeyPairSync } from 'node:crypto';
import { cp, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import { signingKeyFromPem } from '../../src/evidence/dsse.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { signEvidence } from '../../src/evidence/sign-evidence.js';
import { forgeAndReseal } from '../support/forge-evidence.js';
import { tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' };

async function qf(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: ENV, cwd });
  return { code, stdout, stderr };
}

/** A PEM key pair written to `dir`: the private key signs, the public one verifies. */
async function keyPair(dir: string, name: string, type: 'ed25519' | 'p256'): Promise<{ privateFile: string; publicFile: string }> {
  const pair = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateFile = path.join(dir, `${name}.key`);
  const publicFile = path.join(dir, `${name}.pub`);
  await writeFile(privateFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(publicFile, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateFile, publicFile };
}

describe('signed evidence: qf run --sign-key, qf verify --key', () => {
  let repo: TempGitRepo;
  let work: { dir: string; cleanup: () => Promise<void> };
  let signed: string;
  let ed: { privateFile: string; publicFile: string };
  let ec: { privateFile: string; publicFile: string };
  let other: { privateFile: string; publicFile: string };

  beforeAll(async () => {
    repo = await tempGitRepo('failing');
    work = await tempDir();
    ed = await keyPair(work.dir, 'ed', 'ed25519');
    ec = await keyPair(work.dir, 'ec', 'p256');
    other = await keyPair(work.dir, 'other', 'ed25519');
    signed = path.join(work.dir, 'signed');
    const run = await qf(['run', '--repo', repo.dir, '--out', signed, '--sign-key', ed.privateFile], repo.dir);
    expect(run.code).toBe(ExitCode.gateFailed);
    expect(run.stdout).toContain(`Signed:   ${path.join(signed, 'evidence.dsse.json')}`);
  });
  afterAll(async () => {
    await repo.cleanup();
    await work.cleanup();
  });

  async function copy(name: string): Promise<string> {
    const dir = path.join(work.dir, name);
    await cp(signed, dir, { recursive: true });
    return dir;
  }

  it('writes a DSSE envelope over an in-toto Statement v1 of the bundle, and verifies it with the public key', async () => {
    const envelope = JSON.parse(await readFile(path.join(signed, 'evidence.dsse.json'), 'utf8')) as {
      payloadType: string;
      payload: string;
      signatures: { keyid: string; sig: string }[];
    };
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(envelope.signatures).toHaveLength(1);
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Record<string, any>;
    const evidence = JSON.parse(await readFile(path.join(signed, 'evidence.json'), 'utf8')) as Evidence;
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://qualityfoundry.dev/attestation/gate-verdict/v1');
    expect(statement.subject.map((subject: { name: string }) => subject.name)).toEqual([
      'evidence.json',
      ...evidence.artifacts.map((artifact) => artifact.path),
    ]);
    expect(statement.predicate).toMatchObject({ verdict: 'fail', planHash: evidence.plan.planHash, artifacts: evidence.artifacts });

    const result = await qf(['verify', '--key', ed.publicFile, signed], work.dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/signed by key [0-9a-f]{16}…; verdict fail\n$/);
  });

  it('signs and verifies with an ECDSA P-256 key too', async () => {
    const dir = path.join(work.dir, 'ecdsa');
    await cp(signed, dir, { recursive: true });
    await signEvidence(dir, signingKeyFromPem(await readFile(ec.privateFile, 'utf8'), 'test'));
    expect((await qf(['verify', '--key', ec.publicFile, dir], work.dir)).code).toBe(0);
    expect((await qf(['verify', '--key', ed.publicFile, dir], work.dir)).stderr).toContain('is not signed by the given key');
  });

  it('fails with the wrong key', async () => {
    const result = await qf(['verify', '--key', other.publicFile, signed], work.dir);
    expect(result.code).toBe(ExitCode.gateFailed);
    expect(result.stderr).toMatch(/evidence\.dsse\.json is not signed by the given key \(key id [0-9a-f]{16}…; the envelope names [0-9a-f]{16}…\)\n$/);
  });

  it('catches an edited verdict that was re-sealed: the plain check passes, the signature does not', async () => {
    const dir = await copy('verdict-resealed');
    await forgeAndReseal(dir, (evidence) => {
      evidence.gate.verdict = 'pass';
      evidence.gate.rules = [];
    });
    expect((await qf(['verify', dir], work.dir)).code).toBe(0); // the seal anyone can recompute
    const result = await qf(['verify', '--key', ed.publicFile, dir], work.dir);
    expect(result.code).toBe(ExitCode.gateFailed);
    expect(result.stderr).toMatch(/evidence\.json is not the one that was signed \(sha256 [0-9a-f]{12}…, signed [0-9a-f]{12}…\)\n$/);
  });

  it('catches an edited report that was re-indexed and re-sealed', async () => {
    const dir = await copy('report-resealed');
    await forgeAndReseal(dir, async () => {
      const report = path.join(dir, 'reports/unit/junit.xml');
      await writeFile(report, (await readFile(report, 'utf8')).replace('failures="1"', 'failures="0"'));
    });
    expect((await qf(['verify', dir], work.dir)).code).toBe(0);
    expect((await qf(['verify', '--key', ed.publicFile, dir], work.dir)).stderr).toContain('evidence.json is not the one that was signed');
  });

  it('catches a statement re-signed with another key, and a missing envelope', async () => {
    const dir = await copy('resigned');
    await forgeAndReseal(dir, (evidence) => void (evidence.gate.verdict = 'pass'));
    await signEvidence(dir, signingKeyFromPem(await readFile(other.privateFile, 'utf8'), 'test'));
    expect((await qf(['verify', '--key', ed.publicFile, dir], work.dir)).stderr).toContain('is not signed by the given key');
    const unsigned = path.join(work.dir, 'unsigned');
    await qf(['run', '--repo', repo.dir, '--out', unsigned], repo.dir);
    expect((await qf(['verify', '--key', ed.publicFile, unsigned], work.dir)).stderr).toContain(
      'evidence.dsse.json is missing: the bundle is not signed, and a key was given',
    );
  });

  it('refuses a bad --key or --sign-key as bad input (exit 2), before running anything', async () => {
    const notAKey = path.join(work.dir, 'not-a-key.pem');
    await writeFile(notAKey, 'hello\n');
    const verify = await qf(['verify', '--key', notAKey, signed], work.dir);
    expect(verify.code).toBe(ExitCode.badInput);
    expect(verify.stderr).toMatch(/^qf: --key .+not-a-key\.pem: not a PEM public key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaFile = path.join(work.dir, 'rsa.key');
    await writeFile(rsaFile, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const run = await qf(['run', '--repo', repo.dir, '--out', path.join(work.dir, 'never'), '--sign-key', rsaFile], repo.dir);
    expect(run).toMatchObject({ code: ExitCode.badInput, stdout: '' });
    expect(run.stderr).toContain('a rsa key; expected ed25519 or ECDSA P-256.');
  });
});

describe('strict qf verify', () => {
  let repo: TempGitRepo;
  let work: { dir: string; cleanup: () => Promise<void> };
  let good: string;

  beforeAll(async () => {
    repo = await tempGitRepo('failing');
    work = await tempDir();
    good = path.join(work.dir, 'good');
    expect((await qf(['run', '--repo', repo.dir, '--out', good], repo.dir)).code).toBe(ExitCode.gateFailed);
  });
  afterAll(async () => {
    await repo.cleanup();
    await work.cleanup();
  });

  async function withText(name: string, edit: (text: string) => string): Promise<string> {
    const dir = path.join(work.dir, name);
    await cp(good, dir, { recursive: true });
    const file = path.join(dir, 'evidence.json');
    await writeFile(file, edit(await readFile(file, 'utf8')));
    return dir;
  }

  it.each<[string, (text: string) => string, string]>([
    // JSON.parse keeps the last of two keys: a second "verdict" would decide what a lax reader sees.
    ['a duplicate key', (text) => text.replace('"verdict": "fail"', '"verdict": "fail", "verdict": "pass"'), 'gate: the key "verdict" appears twice'],
    ['a __proto__ member', (text) => text.replace('"gate": {', '"gate": { "__proto__": { "verdict": "pass" },'), 'gate: a "__proto__" member is not accepted'],
    [
      'an unknown member (stripped before hashing, so the seal still held)',
      (text) => text.replace('"gate": {', '"gate": { "approvedBy": "mallory",'),
      'has member the evidence schema v2 does not know: gate.approvedBy',
    ],
    [
      'an unknown member at the top level',
      (text) => text.replace('{', '{ "signedOffBy": "mallory",'),
      'has member the evidence schema v2 does not know: signedOffBy',
    ],
  ])('refuses %s', async (name, edit, message) => {
    const dir = await withText(name.replace(/\W+/g, '-'), edit);
    const result = await qf(['verify', dir], work.dir);
    expect(result.code).toBe(ExitCode.gateFailed);
    expect(result.stderr).toContain(message);
  });

  it('accepts a file qf itself refused to index (a report swapped for a link, audited as artifact.refused), and nothing else unlisted', async () => {
    const hostile = await tempGitRepo('passing');
    try {
      const conftest =
        'import atexit\nimport os\n\n\ndef pytest_configure(config):\n    report = config.option.xmlpath\n\n    def swap():\n        os.remove(report)\n        os.symlink("/etc/hostname", report)\n\n    atexit.register(swap)\n';
      await writeFile(path.join(hostile.dir, 'conftest.py'), conftest);
      const out = path.join(work.dir, 'refused');
      expect((await qf(['run', '--repo', hostile.dir, '--out', out], hostile.dir)).code).toBe(ExitCode.gateFailed);
      const evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
      expect(evidence.audit.filter((event) => event.action === 'artifact.refused').map((event) => event.data.path)).toContain('reports/unit/junit.xml');
      expect(await qf(['verify', out], work.dir)).toMatchObject({ code: 0, stderr: '' });
      await symlink('/etc/hostname', path.join(out, 'reports/unit/planted.xml'));
      expect((await qf(['verify', out], work.dir)).stderr).toContain('holds a file its index does not list: reports/unit/planted.xml');
    } finally {
      await hostile.cleanup();
    }
  });

  it('refuses files the index does not list', async () => {
    const dir = path.join(work.dir, 'extra-file');
    await cp(good, dir, { recursive: true });
    await writeFile(path.join(dir, 'reports/unit/extra.xml'), '<testsuite tests="0"/>');
    const result = await qf(['verify', dir], work.dir);
    expect(result.code).toBe(ExitCode.gateFailed);
    expect(result.stderr).toContain('the evidence folder holds a file its index does not list: reports/unit/extra.xml');
  });
});
