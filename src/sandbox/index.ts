export type { Sandbox, SandboxRequest, SandboxResult, CapturedOutput } from './types.js';
export { SubprocessSandbox } from './subprocess-sandbox.js';
export { buildSandboxEnv, isDeniedEnvName } from './sandbox-env.js';
