/**
 * Builds the environment tested code sees. Only allowlisted names pass, and even an allowlisted
 * name never passes when it looks like a credential: pull requests run untrusted code, and a
 * token in its environment is a token in an attacker's hands. Names are not enough (a workflow can
 * put a token in `MY_SETTING`), so values in a known credential format are dropped too, whatever the
 * name: see `screenEnvValues`, which every sandbox applies to the environment it is handed.
 */
const CREDENTIAL_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|(^|_)KEY($|_)|AUTH)/i;

const ALWAYS_DENIED_PREFIXES = ['ACTIONS_', 'GITHUB_', 'RUNNER_', 'INPUT_'];

/**
 * Credential formats recognisable by their value alone, matched anywhere in a value (a token inside
 * a URL or a JSON blob counts). Each has a fixed prefix or structure, so ordinary settings do not
 * match; formats with no structure (an AWS secret key is 40 plain base64 characters) cannot be told
 * apart by value and are covered only by the name rules.
 */
const CREDENTIAL_VALUE_FORMATS: readonly { format: string; pattern: RegExp }[] = [
  { format: 'GitHub token', pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}/ },
  { format: 'GitHub fine-grained token', pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}/ },
  { format: 'AWS access key id', pattern: /\b(AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\b/ },
  { format: 'private key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/ },
  { format: 'JWT', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/ },
  { format: 'GitLab token', pattern: /\bgl(pat|dt|rt|ptt|cbt|soat)-[A-Za-z0-9_-]{20,}/ },
  { format: 'Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { format: 'npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { format: 'PyPI token', pattern: /\bpypi-AgE[A-Za-z0-9_-]{50,}/ },
  { format: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { format: 'Stripe key', pattern: /\b[rs]k_(live|test)_[A-Za-z0-9]{20,}/ },
  { format: 'OpenAI/Anthropic key', pattern: /\bsk-(proj-|ant-|svcacct-)?[A-Za-z0-9_-]{32,}/ },
  { format: 'password in a URL', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i },
];

/** A variable a sandbox left out because its value is a credential; the value itself is never kept. */
export interface DroppedEnvVar {
  name: string;
  format: string;
}

export function isDeniedEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  return CREDENTIAL_NAME.test(upper) || ALWAYS_DENIED_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/** The credential format `value` contains, if any. */
export function credentialFormatOf(value: string): string | undefined {
  return CREDENTIAL_VALUE_FORMATS.find(({ pattern }) => pattern.test(value))?.format;
}

/**
 * Drops every variable whose value holds a credential in a known format, whatever its name, and
 * says which names went (never the values), for the step's evidence.
 */
export function screenEnvValues(env: Record<string, string>): { env: Record<string, string>; dropped: DroppedEnvVar[] } {
  const kept: Record<string, string> = {};
  const dropped: DroppedEnvVar[] = [];
  for (const [name, value] of Object.entries(env)) {
    const format = credentialFormatOf(value);
    if (format === undefined) kept[name] = value;
    else dropped.push({ name, format });
  }
  return { env: kept, dropped };
}

function allowlistMatches(allowlist: readonly string[], name: string): boolean {
  return allowlist.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : entry === name));
}

/**
 * Filters by name. Values are screened later, by the sandbox that runs the step (`screenEnvValues`),
 * so whatever environment reaches a sandbox is screened and the step's evidence says what was dropped.
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
