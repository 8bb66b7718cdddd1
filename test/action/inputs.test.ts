import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../src/action/inputs.js';

const TOKEN = { 'github-token': 'ghs_secret' };
const from = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('readInputs', () => {
  it('applies the defaults of action.yml, empty strings counting as unset', () => {
    expect(readInputs(from({ ...TOKEN, policy: '', mode: '  ', 'approval-app': '' }))).toEqual({
      policy: '.github/qualityfoundry.yml',
      githubToken: 'ghs_secret',
      workingDirectory: '.',
      artifactName: 'qualityfoundry-evidence',
      approvalApp: undefined,
      mode: 'gate',
      dryRun: false,
      signingKey: undefined,
      verifyKey: undefined,
      shard: undefined,
      mergeShards: undefined,
      timings: undefined,
      apiUrl: undefined,
      apiToken: undefined,
      keyless: undefined,
    });
  });

  it('api-token goes with api-url, and is never echoed', () => {
    expect(readInputs(from({ ...TOKEN, 'api-url': 'https://qf.example/', 'api-token': 'qf_tok_1' }))).toMatchObject({
      apiUrl: 'https://qf.example',
      apiToken: 'qf_tok_1',
    });
    expect(() => readInputs(from({ ...TOKEN, 'api-token': 'qf_tok_1' }))).toThrow(
      `input "api-token": a token of the bot's API; expected "api-url" too (where the API is).`,
    );
    let message = '';
    try {
      readInputs(from({ ...TOKEN, 'api-url': 'ftp://x', 'api-token': 'qf_tok_1' }));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('input "api-url"');
    expect(message).not.toContain('qf_tok_1');
  });

  it('sign-keyless needs the OIDC token that `id-token: write` grants, and says so before anything runs', () => {
    const granted = { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.example/x?api-version=2.0', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token' };
    expect(readInputs(from({ ...TOKEN, 'sign-keyless': 'true' }), granted).keyless).toEqual({
      fulcioUrl: 'https://fulcio.sigstore.dev',
      rekorUrl: 'https://rekor.sigstore.dev',
    });
    expect(() => readInputs(from({ ...TOKEN, 'sign-keyless': 'true' }), {})).toThrow('grant it `permissions: id-token: write`');
    expect(() => readInputs(from({ ...TOKEN, 'sign-keyless': 'true', 'sigstore-rekor-url': 'file:///etc/passwd' }), granted)).toThrow(
      'input "sigstore-rekor-url": expected an http(s) URL, got "file:///etc/passwd"',
    );
  });

  it.each([
    [{ mode: 'publish' }, { mode: 'publish' }],
    [{ 'dry-run': 'TRUE' }, { dryRun: true }],
    [{ 'approval-app': 'qualityfoundry-bot' }, { approvalApp: 'qualityfoundry-bot' }],
    [{ 'working-directory': 'services/api' }, { workingDirectory: 'services/api' }],
    [
      { 'shard-index': '2', 'shard-total': '3', timings: 'qf-timings' },
      { shard: { index: 2, total: 3 }, timings: 'qf-timings' },
    ],
    [
      { mode: 'merge', 'shard-total': '4' },
      { mode: 'merge', shard: undefined, mergeShards: 4 },
    ],
    [{ 'api-url': 'https://qf.example.com/' }, { apiUrl: 'https://qf.example.com' }],
  ])('accepts %j', (values, expected) => {
    expect(readInputs(from({ ...TOKEN, ...values }))).toMatchObject(expected);
  });

  it.each([
    [{ mode: 'gatekeeper' }, 'input "mode": expected one of "gate", "publish", "merge", got "gatekeeper"'],
    [{ 'dry-run': 'yes' }, 'input "dry-run": expected true or false, got "yes"'],
    [{ policy: '../other/policy.yml' }, 'input "policy": expected a path relative to the repository root, without "..", got "../other/policy.yml"'],
    [{ 'working-directory': '/etc' }, 'input "working-directory": expected a path relative to the repository root, without "..", got "/etc"'],
    [{ 'artifact-name': 'a/b' }, 'input "artifact-name": expected an artifact name without any of " : < > | * ? \\ / or line breaks, got "a/b"'],
    [
      { 'api-url': 'ftp://qf.example.com' },
      'input "api-url": expected the bot\'s public URL (its QF_PUBLIC_URL), e.g. "https://qf.example.com", got "ftp://qf.example.com"',
    ],
    [
      { 'approval-app': 'My App' },
      'input "approval-app": expected the slug of a GitHub App (lower-case letters, digits and dashes), e.g. "qualityfoundry", got "My App"',
    ],
    [{ 'shard-index': '0', 'shard-total': '3' }, 'input "shard-index": expected a whole number from 1 to 256, got "0"'],
    [{ 'shard-index': '1.5', 'shard-total': '3' }, 'input "shard-index": expected a whole number from 1 to 256, got "1.5"'],
    [{ 'shard-index': 'x', 'shard-total': '3' }, 'input "shard-index": expected a whole number from 1 to 256, got "x"'],
    [{ 'shard-index': '4', 'shard-total': '3' }, 'input "shard-index": expected at most "shard-total" (3), got "4"'],
    [{ 'shard-total': '3' }, 'input "shard-index": expected it with "shard-total" (a shard is I of N), got nothing'],
    [{ timings: 't.xml' }, 'input "timings": balances the shards of a matrix; expected "shard-index" and "shard-total" too.'],
    [{ mode: 'merge' }, 'input "shard-total": expected the number of shards to merge (mode "merge"), got nothing'],
    [{ mode: 'merge', 'shard-index': '1', 'shard-total': '2' }, 'input "shard-index": not used in mode "merge" (it merges every shard); leave it out'],
    [{ mode: 'publish', 'shard-index': '1', 'shard-total': '2' }, 'not used in mode "publish"; a matrix is merged with mode "merge"'],
  ])('refuses %j naming the input and what was expected', (values, message) => {
    expect(() => readInputs(from({ ...TOKEN, ...values }))).toThrow(message);
  });

  it('parses the signing and verify keys, and refuses a bad one without echoing it', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const inputs = readInputs(
      from({
        ...TOKEN,
        'signing-key': privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        'verify-key': publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      }),
    );
    expect(inputs.signingKey?.asymmetricKeyType).toBe('ed25519');
    expect(inputs.verifyKey?.type).toBe('public');
    const secret = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----';
    let message = '';
    try {
      readInputs(from({ ...TOKEN, 'signing-key': secret }));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^input "signing-key": not a PEM private key/);
    expect(message).not.toContain('c2VjcmV0');
  });

  it('refuses a missing token without echoing any token', () => {
    expect(() => readInputs(from({}))).toThrow('input "github-token": expected a token (the default is the workflow token, `github.token`), got nothing');
  });
});
