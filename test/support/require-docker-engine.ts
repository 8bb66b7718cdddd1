import type Docker from 'dockerode';
import { DEFAULT_SANDBOX_IMAGE } from '../../src/sandbox/create-sandbox.js';
import { probeDockerEngine } from '../../src/sandbox/docker-engine.js';

/**
 * Fails (never skips) when the engine or the sandbox image is missing: CI installs both, so a
 * missing one is a broken set-up, not a reason to pass quietly.
 */
export async function requireDockerEngine(docker: Docker, image = DEFAULT_SANDBOX_IMAGE): Promise<string> {
  const probe = await probeDockerEngine(docker, image);
  if (probe.ok) return probe.imageId;
  const message = `${probe.message}\nThe container sandbox tests need a running Docker engine and the sandbox image: run scripts/install-docker-engine.sh, then scripts/build-sandbox-image.sh.`;
  console.error(message); // visible even if the reporter cannot format the failure
  throw new Error(message);
}
