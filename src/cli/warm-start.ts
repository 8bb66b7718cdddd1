import path from 'node:path';
import { DEFAULT_PYTHON, PYTEST_EXTRA_ENV } from '../constants.js';
import { buildSandboxEnv, DEFAULT_ENV_ALLOWLIST } from '../sandbox/sandbox-env.js';
import { WarmPytest } from '../sandbox/warm-pytest.js';

/**
 * For `qf run`: starts a Python importing pytest before the rest of qf has loaded, so the two
 * start-ups overlap (see WarmPytest). It assumes the policy's defaults (interpreter, environment
 * allowlist); a step that differs starts the ordinary way, so a wrong guess costs only the guess.
 */
export function startWarmPytest(argv: readonly string[], env: Record<string, string | undefined>, cwd: string): Promise<WarmPytest | undefined> | undefined {
  const repo = flagValue(argv, '--repo');
  if (repo === undefined) return undefined;
  const stepEnv = buildSandboxEnv(env, DEFAULT_ENV_ALLOWLIST, { ...PYTEST_EXTRA_ENV });
  // A Python that cannot start is reported by the step that needs it, not here.
  return WarmPytest.start({ python: DEFAULT_PYTHON, repoDir: path.resolve(cwd, repo), env: stepEnv }).catch(() => undefined);
}

/** `--name VALUE` or `--name=VALUE`; the run command's own parser checks the rest later. */
function flagValue(argv: readonly string[], name: string): string | undefined {
  for (const [index, arg] of argv.entries()) {
    if (arg === name) return argv[index + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}
