import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { lstat, mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { extract, type Header } from 'tar-stream';
import type { ContainerPolicy } from '../policy/schema.js';
import { SANDBOX_CONTAINER_LABEL } from './container-options.js';
import type { OutputRefusal } from './types.js';

/** Where the holder container mounts the output volume; only the holder sees this path. */
const HOLDER_MOUNT = '/qf-output';
/** At most this many refusals are listed one by one; the rest are counted. */
const MAX_LISTED_REFUSALS = 50;

/** What came out of a step's output volume into the host folder. */
export interface OutputCopy {
  files: number;
  bytes: number;
  refused: OutputRefusal[];
  /** Refusals beyond the listed ones. */
  refusedUnlisted: number;
}

/**
 * The one folder a container step may write to: a size-limited tmpfs volume instead of a bind
 * mount of the host folder, so a step can neither fill the host's disk (the kernel answers ENOSPC
 * at `output_mb`) nor leave links, pipes or a million files for qf to follow, hash and list. A tmpfs
 * volume lives only while a container has it mounted, so a small holder container (no network,
 * no capabilities, read-only) keeps it mounted from before the step starts until its files are
 * copied out: at most `output_max_files` regular files and folders, created by qf with no-follow,
 * exclusive opens in the host folder; everything else is refused and recorded.
 */
export class ContainerOutput {
  private constructor(
    private readonly docker: Docker,
    readonly volumeName: string,
    private readonly holder: Docker.Container,
  ) {}

  /** Creates the volume and starts the holder; `lifetimeSeconds` bounds the holder if qf dies. */
  static async open(docker: Docker, settings: ContainerPolicy, lifetimeSeconds: number): Promise<ContainerOutput> {
    const volumeName = `qf-output-${randomBytes(8).toString('hex')}`;
    await docker.createVolume({
      Name: volumeName,
      Driver: 'local',
      DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: `size=${settings.output_mb}m,nr_inodes=${settings.output_max_files + 64},mode=1777,nosuid,nodev` },
      Labels: { [SANDBOX_CONTAINER_LABEL]: 'output' },
    });
    let holder: Docker.Container | undefined;
    try {
      holder = await docker.createContainer(holderOptions(settings, volumeName, lifetimeSeconds));
      await holder.start();
      return new ContainerOutput(docker, volumeName, holder);
    } catch (error) {
      await holder?.remove({ force: true }).catch(() => undefined);
      await docker
        .getVolume(volumeName)
        .remove({ force: true })
        .catch(() => undefined);
      throw error;
    }
  }

  /** The step container's mount of the volume at the host folder's path. */
  mount(target: string): Docker.MountSettings {
    return { Type: 'volume', Source: this.volumeName, Target: target, ReadOnly: false };
  }

  /** Copies what the step left into `hostDir` (which qf created), within the policy's limits. */
  async copyTo(hostDir: string, maxFiles: number): Promise<OutputCopy> {
    const archive = (await this.holder.getArchive({ path: `${HOLDER_MOUNT}/.` })) as NodeJS.ReadableStream;
    const copy: OutputCopy = { files: 0, bytes: 0, refused: [], refusedUnlisted: 0 };
    const refuse = (name: string, reason: string) => {
      if (copy.refused.length < MAX_LISTED_REFUSALS) copy.refused.push({ path: name, reason });
      else copy.refusedUnlisted++;
    };
    const unpack = extract();
    const feeding = pipeline(archive, unpack);
    try {
      for await (const entry of unpack) await copyEntry(hostDir, entry.header, entry, copy, maxFiles, refuse);
    } finally {
      unpack.destroy();
      await feeding.catch(() => undefined);
    }
    return copy;
  }

  /** Removes the holder and the volume (and with it whatever the step left); never throws. */
  async remove(): Promise<void> {
    await this.holder.remove({ force: true, v: true }).catch(() => undefined);
    await this.docker
      .getVolume(this.volumeName)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

function holderOptions(settings: ContainerPolicy, volumeName: string, lifetimeSeconds: number): Docker.ContainerCreateOptions {
  return {
    Image: settings.image,
    // Any image with a `sleep` holds the mount; it also ends on its own if qf dies without removing it.
    Cmd: ['sleep', String(Math.ceil(lifetimeSeconds))],
    Entrypoint: [],
    User: settings.user,
    Labels: { [SANDBOX_CONTAINER_LABEL]: 'output-holder' },
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Mounts: [{ Type: 'volume', Source: volumeName, Target: HOLDER_MOUNT, ReadOnly: true }],
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 8,
      Memory: 32 * 1024 * 1024,
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}

/** The archive names entries `./x` or `x`; anything that would leave the folder is refused. */
function relativeName(name: string): string | undefined {
  const normalized = path.posix.normalize(name.replace(/^\.\/?/, ''));
  if (normalized === '.' || normalized === '') return '';
  if (normalized.startsWith('../') || normalized === '..' || path.posix.isAbsolute(normalized) || normalized.includes('\0')) return undefined;
  return normalized.replace(/\/$/, '');
}

async function copyEntry(
  hostDir: string,
  header: Header,
  stream: AsyncIterable<unknown>,
  copy: OutputCopy,
  maxFiles: number,
  refuse: (name: string, reason: string) => void,
): Promise<void> {
  const drain = async () => {
    for await (const chunk of stream) void chunk; // the archive moves on only once an entry is read
  };
  const name = relativeName(header.name);
  if (name === undefined) {
    refuse(header.name, 'a name outside the output folder');
    return drain();
  }
  if (name === '') return drain(); // the folder itself
  const target = path.join(hostDir, ...name.split('/'));
  if (header.type === 'directory') {
    if (copy.files >= maxFiles) {
      refuse(name, `over the limit of ${maxFiles} files and folders (sandbox.container.output_max_files)`);
      return drain();
    }
    copy.files++;
    await mkdir(target, { recursive: true, mode: 0o755 });
    return drain();
  }
  if (header.type !== 'file' && header.type !== 'contiguous-file') {
    refuse(name, `a ${header.type} entry, not a regular file: not copied`);
    return drain();
  }
  if (copy.files >= maxFiles) {
    refuse(name, `over the limit of ${maxFiles} files and folders (sandbox.container.output_max_files)`);
    return drain();
  }
  copy.files++;
  await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  // A file of an earlier attempt of the same step is replaced; a link in its place is removed, never followed.
  if (
    await lstat(target).then(
      (info) => !info.isDirectory(),
      () => false,
    )
  )
    await unlink(target);
  const file = await open(target, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o644);
  try {
    await pipeline(stream, file.createWriteStream());
  } finally {
    await file.close().catch(() => undefined);
  }
  copy.bytes += header.size;
}
