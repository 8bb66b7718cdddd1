import type Docker from 'dockerode';
import type { AuditTrail } from '../audit/audit-chain.js';
import { QfError } from '../errors.js';
import { ContainerSchema, type SandboxPolicy } from '../policy/schema.js';
import { assertNonRootUser } from './container-options.js';
import { ContainerSandbox } from './container-sandbox.js';
import { describeEngine, probeDockerEngine } from './docker-engine.js';
import { FallbackSandbox } from './fallback-sandbox.js';
import { SubprocessSandbox } from './subprocess-sandbox.js';
import type { Sandbox } from './types.js';

/** The tag scripts/build-sandbox-image.sh builds; used when a container policy names no image. */
export const DEFAULT_SANDBOX_IMAGE = 'qualityfoundry/python-sandbox:bookworm';

export const SandboxAuditAction = {
  unavailable: 'sandbox.unavailable',
  fallback: 'sandbox.fallback',
} as const;

export interface CreateSandboxDeps {
  audit: AuditTrail;
  /** The engine to use; default: dockerode's default (DOCKER_HOST or /var/run/docker.sock). */
  docker?: Docker;
}

/**
 * The sandbox the policy asks for. For `container`, the engine must answer and the image must
 * exist; otherwise the run is refused (SANDBOX_UNAVAILABLE, naming what is missing) and audited,
 * or — only when the policy says `fallback: subprocess` — the subprocess sandbox runs instead, with
 * the reason on every result and in the audit trail. Never a silent fallback.
 */
export async function createSandbox(policy: SandboxPolicy, deps: CreateSandboxDeps): Promise<Sandbox> {
  if (policy.mode === 'subprocess') return new SubprocessSandbox();

  const settings = policy.container ?? ContainerSchema.parse({ image: DEFAULT_SANDBOX_IMAGE });
  assertNonRootUser(settings.user);
  // Loaded only here: subprocess runs never pay for dockerode's start-up.
  const docker = deps.docker ?? new (await import('dockerode')).default();
  const probe = await probeDockerEngine(docker, settings.image);
  if (probe.ok) return new ContainerSandbox({ docker, settings });

  const data = { mode: policy.mode, image: settings.image, engine: await describeEngine(docker), missing: probe.missing, reason: probe.message };
  if (policy.fallback === 'subprocess') {
    const reason = `container sandbox unavailable, ran in the subprocess sandbox (sandbox.fallback: subprocess): ${probe.message}`;
    deps.audit.record({ actor: 'qf', action: SandboxAuditAction.fallback, subject: settings.image, data: { ...data, fallback: 'subprocess' } });
    return new FallbackSandbox(new SubprocessSandbox(), reason);
  }
  deps.audit.record({ actor: 'qf', action: SandboxAuditAction.unavailable, subject: settings.image, data: { ...data, fallback: 'none' } });
  throw new QfError('SANDBOX_UNAVAILABLE', probe.message);
}
