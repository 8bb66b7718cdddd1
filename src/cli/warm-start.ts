import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PYTHON, PYTEST_EXTRA_ENV } from '../constants.js';
import { buildSandboxEnv, DEFAULT_ENV_ALLOWLIST } from '../sandbox/sandbox-env.js';
import { WarmPytest } from '../sandbox/warm-pytest.js';

/**
 * For `qf run`: starts a Python importing pytest before the rest of qf has loaded, so the two
 * start-ups overlap (see WarmPytest). It assumes the policy's defaults (interpreter, environment
 * allowlist); a step that differs starts the ordinary way, so a wrong guess costs only the guess.
 */
export function startWarmPytest(argv: readonly string[], env: Record<string, string | undefined>, cwd: string): WarmPytest | undefined {
  // Lenient: the run command's own parser checks the flags, and reports what is wrong, later.
  const repo = parseArgs({ args: [...argv], options: { repo: { type: 'string' } }, strict: false, allowPositionals: true }).values.repo;
  if (typeof repo !== 'string') return undefined;
  const stepEnv = buildSandboxEnv(env, DEFAULT_ENV_ALLOWLIST, { ...PYTEST_EXTRA_ENV });
  try {
    return WarmPytest.start({ python: DEFAULT_PYTHON, repoDir: path.resolve(cwd, repo), env: stepEnv });
  } catch {
    return undefined; // no temp folder, say: whatever it is, the step that needs pytest reports it
  }
}

