import type Docker from 'dockerode';
import { QfError } from '../errors.js';
import type { ContainerPolicy } from '../policy/schema.js';
import type { SandboxRequest } from './types.js';

/** Label put on every sandbox container, so a crashed run's leftovers can be found and removed. */
export const SANDBOX_CONTAINER_LABEL = 'qualityfoundry.sandbox';

const ROOT_USER = /^(0|root)(:|$)/;

/** Refuses a root user: with a root uid, a read-only bind mount is one capability bug away from writable. */
export function assertNonRootUser(user: string): void {
  if (user.trim() === '' || ROOT_USER.test(user.trim())) {
    throw new QfError('POLICY_INVALID', `sandbox.container.user "${user}" runs the step as root; expected a non-root uid:gid such as 65534:65534.`);
  }
}

/**
 * The create options of one step's container. Every limit of the issue is here, in one place, so a
 * review of the hardening is a review of this function:
 * - no network at all (`none` and NetworkDisabled, so not even loopback to the host's services);
 * - a read-only root, writable only through a small noexec/nosuid tmpfs `/tmp` and the output folder,
 *   itself a size- and inode-limited tmpfs volume (see ContainerOutput), never a host folder;
 * - no capabilities, no-new-privileges (setuid binaries gain nothing), a non-root user;
 * - pids, memory (swap not on top), CPU and ulimits, with core dumps off;
 * - an init process that reaps zombies and forwards the kill;
 * - the repository read-only and the output volume writable at the same absolute paths as on the
 *   host, and the same working directory, so tools build argv with host paths and nothing is rewritten.
 * `cwd` must already be confined to the repository (see confinePath).
 */
export function containerOptions(
  request: SandboxRequest,
  cwd: string,
  settings: ContainerPolicy,
  image: string,
  outputMount: Docker.MountSettings,
): Docker.ContainerCreateOptions {
  assertNonRootUser(settings.user);
  const memoryBytes = settings.memory_mb * 1024 * 1024;
  return {
    Image: image,
    Cmd: [request.command, ...request.args],
    // The image's own entrypoint (if any) must not wrap the command.
    Entrypoint: [],
    Env: Object.entries(request.env).map(([name, value]) => `${name}=${value}`),
    WorkingDir: cwd,
    User: settings.user,
    Hostname: 'sandbox',
    Labels: { [SANDBOX_CONTAINER_LABEL]: 'step' },
    // stdin only when the request has some: attached, then closed once written (StdinOnce).
    AttachStdin: request.stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: request.stdin !== undefined,
    StdinOnce: request.stdin !== undefined,
    Tty: false, // stdout and stderr stay separate (multiplexed) only without a TTY
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,size=${settings.tmpfs_mb}m,mode=1777` },
      Mounts: [
        // Mounts (not Binds): no "a:b:ro" parsing of paths with colons, and a missing source is an error.
        { Type: 'bind', Source: request.repoDir, Target: request.repoDir, ReadOnly: true },
        outputMount,
      ],
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      IpcMode: 'private',
      PidsLimit: settings.pids_limit,
      Memory: memoryBytes,
      MemorySwap: memoryBytes, // equal: no swap on top of the limit, so the OOM killer acts at the limit
      NanoCpus: Math.round(settings.cpus * 1e9),
      Ulimits: [
        { Name: 'nofile', Soft: settings.nofile, Hard: settings.nofile },
        // nproc counts per uid on the whole host; the pids limit is the per-container bound, this is a second fence.
        { Name: 'nproc', Soft: settings.pids_limit, Hard: settings.pids_limit },
        { Name: 'core', Soft: 0, Hard: 0 },
      ],
      Init: true,
      AutoRemove: false, // we inspect (exit code, OOM) and collect output before removing it ourselves
      // Output is read through attach and capped in memory; a log driver would store a flood on the engine's disk.
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}
