import type { AuditEvent } from '../audit/audit-chain.js';
import type { ArtifactEntry, Evidence, StepResult } from '../evidence/schema.js';
import type { ChangeSet } from '../planner/change-set.js';
import type { Plan } from '../planner/build-plan.js';
import type { RunNode } from './types.js';

/**
 * Everything a run knows, as plain JSON: each node takes it and returns the next one. It is written
 * to OUT/run-state.json where a run stops or may be resumed from, so a run waiting for a human (or
 * interrupted) can resume where it stopped.
 */
export interface RunState {
  stateVersion: 1;
  runId: string;
  startedAt: string;
  node: RunNode;
  policy: { path: string; sourceRef: string | null; sha256: string };
  change: ChangeSet;
  plan: Plan | null;
  approval: Evidence['approval'];
  steps: StepResult[];
  budget: { usedMs: number; retries: number };
  shortCircuit: { reason: string; atStep: string | null; kind?: 'budget' | 'fail_fast' } | null;
  /** What the SecureGateway vetoed (evidence.governance.vetoes); absent in states saved before any step ran. */
  vetoes?: Array<Record<string, unknown>>;
  versions: { python: string | null; pytest: string | null };
  /** collect's output: the step artifacts as indexed for PSMP (reused by evidence.json) and what PSMP found. */
  collected: { artifacts: ArtifactEntry[]; conflicts: Array<Record<string, unknown>>; blockingConflicts: number; blockingFindings: string[] } | null;
  /** The verdict, once a node has decided it (judge; approve when rejected or still waiting). */
  judgement: Evidence['gate'] | null;
  audit: AuditEvent[];
}

/** Which node may follow which: the state machine, written down once. The loop in orchestrate.ts follows it. */
export const TRANSITIONS: Readonly<Record<RunNode, readonly RunNode[]>> = {
  load_policy: ['plan'],
  plan: ['approve'],
  approve: ['execute', 'done'], // done: rejected
  execute: ['collect'],
  collect: ['judge'],
  judge: ['done'],
  done: [],
};

export function initialRunState(runId: string, startedAt: string, policy: RunState['policy'], change: ChangeSet): RunState {
  return {
    stateVersion: 1,
    runId,
    startedAt,
    node: 'load_policy',
    policy,
    change,
    plan: null,
    approval: { required: false, needed: 0, status: 'not_required', approvals: [], rejected: [] },
    steps: [],
    budget: { usedMs: 0, retries: 0 },
    shortCircuit: null,
    versions: { python: null, pytest: null },
    collected: null,
    judgement: null,
    audit: [],
  };
}
