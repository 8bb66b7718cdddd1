import { describe, expect, it } from 'vitest';
import { buildSandboxEnv, isDeniedEnvName } from '../../src/sandbox/sandbox-env.js';

describe('isDeniedEnvName', () => {
  it.each([
    'GITHUB_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'MY_API_KEY', 'OPENAI_APIKEY',
    'DB_PASSWORD', 'PGPASSWD', 'SSH_PRIVATE_KEY', 'NPM_AUTH_TOKEN', 'GPG_PASSPHRASE', 'GOOGLE_APPLICATION_CREDENTIALS', 'KEY', 'SIGNING_KEY_ID',
    'RUNNER_TEMP', 'INPUT_GITHUB-TOKEN', 'github_sha', 'my_secret',
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

  it('adds the tool\'s own variables, still refusing credential-like ones', () => {
    expect(buildSandboxEnv(source, ['PATH'], { PYTHONDONTWRITEBYTECODE: '1', PYPI_TOKEN: 'x' })).toEqual({ PATH: '/usr/bin', PYTHONDONTWRITEBYTECODE: '1' });
  });

  it('gives an empty environment for an empty allowlist', () => {
    expect(buildSandboxEnv(source, [])).toEqual({});
  });
});
