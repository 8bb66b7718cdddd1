/** The policy's default `sandbox.env_allowlist`: what tested code sees when the policy names nothing. */
export const DEFAULT_ENV_ALLOWLIST: readonly string[] = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'PYTHONPATH', 'VIRTUAL_ENV'];
