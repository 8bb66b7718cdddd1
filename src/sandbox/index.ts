export type { Sandbox, SandboxRequest, SandboxResult, CapturedOutput } from './types.js';
export { SubprocessSandbox } from './subprocess-sandbox.js';
export { buildSandboxEnv, isDeniedEnvName } from './sandbox-env.js';
export { ContainerSandbox, type ContainerSandboxOptions } from './container-sandbox.js';
export { FallbackSandbox } from './fallback-sandbox.js';
export { createSandbox, DEFAULT_SANDBOX_IMAGE, SandboxAuditAction, type CreateSandboxDeps } from './create-sandbox.js';
export { probeDockerEngine, type DockerEngineProbe } from './docker-engine.js';
export { detectProcessIsolation, type IsolationMechanism, type IsolationRecord, type ProcessIsolation } from './process-isolation.js';
export { screenEnvValues, credentialFormatOf, type DroppedEnvVar } from './sandbox-env.js';
