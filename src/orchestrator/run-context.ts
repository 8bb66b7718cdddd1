import type { AuditTrail } from '../audit/audit-chain.js';
import type { Evidence } from '../evidence/schema.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import type { ArtifactLedger } from './artifact-ledger.js';
import type { RunState } from './run-state.js';
import type { OrchestrateOptions, RunNode } from './types.js';

/** What every node may use besides the run state: the run's inputs and services, none of them changed by a node. */
export interface RunContext {
  options: OrchestrateOptions & { signal?: AbortSignal; iteration?: number };
  policy: LoadedPolicy;
  audit: AuditTrail;
  ledger: ArtifactLedger;
  /** The run id, the subject of every audit event. */
  subject: string;
  /**
   * Saves run-state.json: what an interrupted run's evidence holds, and (`resumable`, a run waiting
   * for approval) where a later run resumes from, sealed with a `state.saved` audit event.
   */
  checkpoint: (state: RunState, resumable?: boolean) => Promise<void>;
  /** The repository's commit, branch, dirty flag and lockfile fingerprint, read once (git) while the run goes on. */
  repro: Promise<Pick<Evidence['repro'], 'gitSha' | 'branch' | 'dirty' | 'dependencyFingerprint'>>;
}

/**
 * A node's answer: the next node and the state it hands on (its output is in it), with what the
 * transition's audit event says. `stay` stops the run at this node, resumable (waiting for a human).
 */
export type NodeResult = { next: RunNode; state: RunState; data?: Record<string, unknown> } | { stay: true; state: RunState };

export type RunNodeFunction = (state: RunState, context: RunContext) => Promise<NodeResult>;
