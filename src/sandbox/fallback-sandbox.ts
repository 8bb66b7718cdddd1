import type { Sandbox, SandboxRequest, SandboxResult } from './types.js';

/**
 * The subprocess sandbox standing in for a container sandbox that could not run, when the policy
 * opted in with `sandbox.fallback: subprocess`. Every result says why, so evidence and the summary
 * show that the step did not run in a container.
 */
export class FallbackSandbox implements Sandbox {
  readonly mode: Sandbox['mode'];

  constructor(
    private readonly inner: Sandbox,
    readonly fallbackReason: string,
  ) {
    this.mode = inner.mode;
  }

  async run(request: SandboxRequest): Promise<SandboxResult> {
    const result = await this.inner.run(request);
    return { ...result, fallbackReason: this.fallbackReason };
  }
}
