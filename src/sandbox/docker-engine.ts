import type Docker from 'dockerode';
import { errorMessage } from '../errors.js';

/** A hung engine must not hang the run: the probe gives up after this long. */
const PROBE_TIMEOUT_MS = 10_000;

export type DockerEngineProbe = { ok: true; imageId: string } | { ok: false; missing: 'engine' | 'image'; message: string };

/** Where dockerode talks to, for messages: the socket path (resolved as dockerode would) or host:port. */
export async function describeEngine(docker: Docker): Promise<string> {
  const modem = docker.modem as { socketPath?: unknown; host?: unknown; port?: unknown; getSocketPath?: () => Promise<unknown> };
  if (modem.socketPath !== undefined && typeof modem.getSocketPath === 'function') {
    const socketPath = await modem.getSocketPath().catch(() => undefined);
    if (typeof socketPath === 'string') return socketPath;
  }
  if (typeof modem.host === 'string') return `${modem.host}${modem.port === undefined ? '' : `:${String(modem.port)}`}`;
  return 'the default Docker socket';
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS / 1000}s`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Checks that the engine answers and that `image` exists on it, without pulling anything: the
 * sandbox image is built offline (scripts/build-sandbox-image.sh), and a pull from a registry would
 * be code nobody reviewed. Returns the image's Id, the content digest that goes into evidence.
 */
export async function probeDockerEngine(docker: Docker, image: string): Promise<DockerEngineProbe> {
  const where = await describeEngine(docker);
  try {
    await withTimeout(docker.ping(), `the Docker engine at ${where}`);
  } catch (error) {
    return {
      ok: false,
      missing: 'engine',
      message: `No Docker engine answers at ${where} (${errorMessage(error)}); expected a running engine for sandbox.mode "container" — run scripts/install-docker-engine.sh.`,
    };
  }
  try {
    const info = await withTimeout(docker.getImage(image).inspect(), `the Docker engine at ${where}`);
    return { ok: true, imageId: info.Id };
  } catch (error) {
    if (statusCode(error) === 404) {
      return {
        ok: false,
        missing: 'image',
        message: `The sandbox image "${image}" does not exist on the Docker engine at ${where}; expected it to be built beforehand — run scripts/build-sandbox-image.sh.`,
      };
    }
    return {
      ok: false,
      missing: 'engine',
      message: `The Docker engine at ${where} could not inspect the image "${image}" (${errorMessage(error)}).`,
    };
  }
}
