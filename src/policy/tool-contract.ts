import type * as z from 'zod';
import type { Policy } from './schema.js';

/** A problem a tool's contract finds in how a policy uses it, at a path inside the plan rule's `with`. */
export interface ContractProblem {
  path: PropertyKey[];
  message: string;
}

/** A metric a tool publishes, with what a policy author needs to write a rule over it (`qf metrics`). */
export interface MetricInfo {
  /** `<name>` stands for a policy-chosen segment, e.g. `command.<name>.exit_code`. */
  name: string;
  meaning: string;
  unit: string;
  /** How it is computed from other counts, when it is not a plain count. */
  formula?: string;
}

/**
 * What a policy may say to a tool, without the tool's code: its name, the `with:` it accepts and the
 * metrics it publishes. Validating a policy reads only these; each ToolDefinition (src/tools/)
 * extends its contract with the code that runs.
 */
export interface ToolContract<Input = unknown> {
  name: string;
  description: string;
  input: z.ZodType<Input>;
  /**
   * Metrics the tool publishes. `<name>` stands for a policy-chosen segment, e.g.
   * `command.<name>.exit_code`. The gate refuses rules over metrics no tool publishes.
   */
  metrics: readonly MetricInfo[];
  /** Input defaults the policy sets outside the step (e.g. `sandbox.python`); a step's own `with` wins. */
  policyDefaults?(policy: Policy): Record<string, unknown>;
  /** Checks of a plan rule's `with` against the rest of the policy (a named command exists, say). */
  checkInPolicy?(input: Record<string, unknown>, policy: { tools?: Policy['tools'] | undefined }): ContractProblem[];
}
