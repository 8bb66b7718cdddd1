import { describe, expect, it } from 'vitest';
import { buildSandboxEnv, credentialFormatOf, isDeniedEnvName, screenEnvValues } from '../../src/sandbox/sandbox-env.js';

describe('isDeniedEnvName', () => {
  it.each([
    'GITHUB_TOKEN',
    'ACTIONS_RUNTIME_TOKEN',
    'ACTIONS_ID_TOKEN_REQUEST_URL',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ACCESS_KEY_ID',
    'MY_API_KEY',
    'OPENAI_APIKEY',
    'DB_PASSWORD',
    'PGPASSWD',
    'SSH_PRIVATE_KEY',
    'NPM_AUTH_TOKEN',
    'GPG_PASSPHRASE',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'KEY',
    'SIGNING_KEY_ID',
    'RUNNER_TEMP',
    'INPUT_GITHUB-TOKEN',
    'github_sha',
    'my_secret',
  ])('denies %s', (name) => {
    expect(isDeniedEnvName(name)).toBe(true);
  });

  it.each(['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'PYTHONPATH', 'VIRTUAL_ENV', 'MONKEY_NAME', 'KEYBOARD', 'DB_HOST'])('lets %s through', (name) => {
    expect(isDeniedEnvName(name)).toBe(false);
  });
});

describe('buildSandboxEnv', () => {
  const source = {
    PATH: '/usr/bin',
    HOME: '/home/runner',
    GITHUB_TOKEN: 'ghs_x',
    ACTIONS_RUNTIME_TOKEN: 'jwt',
    AWS_SECRET_ACCESS_KEY: 'aws',
    MY_API_KEY: 'k',
    MY_REGION: 'eu-west-1',
    DB_PASSWORD: 'p',
    DB_HOST: 'db',
    UNLISTED: 'u',
    EMPTY: undefined,
  };

  it('keeps only allowlisted names, exact or by prefix, and never a credential', () => {
    expect(buildSandboxEnv(source, ['PATH', 'HOME', 'MY_*', 'DB_*', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'ACTIONS_*', 'EMPTY'])).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/runner',
      MY_REGION: 'eu-west-1',
      DB_HOST: 'db',
    });
  });

  it("adds the tool's own variables, still refusing credential-like ones", () => {
    expect(buildSandboxEnv(source, ['PATH'], { PYTHONDONTWRITEBYTECODE: '1', PYPI_TOKEN: 'x' })).toEqual({ PATH: '/usr/bin', PYTHONDONTWRITEBYTECODE: '1' });
  });

  it('gives an empty environment for an empty allowlist', () => {
    expect(buildSandboxEnv(source, [])).toEqual({});
  });
});

// Shaped like the real thing, but made up here (long enough for the format, never a live credential).
const FAKE = {
  ghp: `ghp_${'a1B2c3D4e5'.repeat(4)}`,
  ghs: `ghs_${'Z9y8X7w6V5'.repeat(4)}`,
  gho: `gho_${'0123456789'.repeat(4)}`,
  ghu: `ghu_${'abcdefghij'.repeat(4)}`,
  ghr: `ghr_${'QWERTYUIOP'.repeat(4)}`,
  pat: `github_pat_11ABCDEFG0${'x'.repeat(12)}_${'Y'.repeat(59)}`,
  aws: 'AKIAIOSFODNN7EXAMPLE',
  awsSession: 'ASIAY34FZKBOKMUTVV7A',
  pem: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
  rsa: '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  url: 'https://deploy:hunter2hunter2@git.example.com/org/repo.git',
  npm: `npm_${'a'.repeat(36)}`,
  slack: 'xoxb-123456789012-abcdefghijkl',
};

describe('credentialFormatOf', () => {
  it.each([
    ['ghp', 'GitHub token'],
    ['ghs', 'GitHub token'],
    ['gho', 'GitHub token'],
    ['ghu', 'GitHub token'],
    ['ghr', 'GitHub token'],
    ['pat', 'GitHub fine-grained token'],
    ['aws', 'AWS access key id'],
    ['awsSession', 'AWS access key id'],
    ['pem', 'private key'],
    ['rsa', 'private key'],
    ['jwt', 'JWT'],
    ['url', 'password in a URL'],
    ['npm', 'npm token'],
    ['slack', 'Slack token'],
  ] as const)('recognises a %s value as a %s', (key, format) => {
    expect(credentialFormatOf(FAKE[key])).toBe(format);
    // Inside a longer value too: a token in a URL or a JSON blob is still a token.
    expect(credentialFormatOf(`prefix ${FAKE[key]} suffix`)).toBe(format);
  });

  it.each([
    '/usr/local/bin:/usr/bin:/bin',
    'en_US.UTF-8',
    'Europe/Berlin',
    '/home/runner/.venv',
    'a3f1c9e0d4b2a3f1c9e0d4b2a3f1c9e0d4b2a3f1',
    'https://pypi.example.com/simple',
    'eyJhbGciOiJIUzI1NiJ9',
    'ghp_short',
    'AKIA-not-a-key',
    'http://proxy.example.com:3128',
  ])('leaves an ordinary value alone: %s', (value) => {
    expect(credentialFormatOf(value)).toBeUndefined();
  });
});

describe('screenEnvValues', () => {
  it('drops credential values whatever the name and names them with their format, never the value', () => {
    const screened = screenEnvValues({ PATH: '/usr/bin', MY_SETTING: FAKE.ghs, HARMLESS: FAKE.aws, PIP_INDEX_URL: FAKE.url, LANG: 'C.UTF-8' });
    expect(screened.env).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8' });
    expect(screened.dropped).toEqual([
      { name: 'MY_SETTING', format: 'GitHub token' },
      { name: 'HARMLESS', format: 'AWS access key id' },
      { name: 'PIP_INDEX_URL', format: 'password in a URL' },
    ]);
    expect(JSON.stringify(screened.dropped)).not.toContain(FAKE.ghs);
  });
});
