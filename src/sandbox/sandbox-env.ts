/**
 * Builds the environment tested code sees. Only allowlisted names pass, and even an allowlisted
 * name never passes when it looks like a credential: pull requests run untrusted code, and a
 * token in its environment is a token in an attacker's hands.
 */
const CREDENTIAL_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|(^|_)KEY($|_)|AUTH)/i;
/** The policy's default `sandbox.env_allowlist`. */
export const DEFAULT_ENV_ALLOWLIST: readonly string[] = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'PYTHONPATH', 'VIRTUAL_ENV'];

const ALWAYS_DENIED_PREFIXES = ['ACTIONS_', 'GITHUB_', 'RUNNER_', 'INPUT_'];

export function isDeniedEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  return CREDENTIAL_NAME.test(upper) || ALWAYS_DENIED_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

function allowlistMatches(allowlist: readonly string[], name: string): boolean {
  return allowlist.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : entry === name));
}

/**
 * @param source the environment to pick from (the caller passes `process.env`; the core never reads it)
 * @param allowlist names from the policy; a trailing `*` matches a prefix
 * @param extra variables the tool itself sets (never filtered by the allowlist, still credential-checked)
 */
export function buildSandboxEnv(
  source: Record<string, string | undefined>,
  allowlist: readonly string[],
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || isDeniedEnvName(name)) continue;
    if (allowlistMatches(allowlist, name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (!isDeniedEnvName(name)) env[name] = value;
  }
  return env;
}
