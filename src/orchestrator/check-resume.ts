import { verifyAuditChain, type AuditEvent } from '../audit/audit-chain.js';
import { QfError } from '../errors.js';
import { approvalRequirement, buildPlan } from '../planner/build-plan.js';
import { digestOf } from '../util/canonical-json.js';
import { initialRunState, type RunState } from './run-state.js';
import type { ChangeSet } from '../planner/change-set.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';

/** The audit action that binds a saved run-state.json to its run: it carries stateDigest(state). */
export const STATE_SAVED = 'state.saved';

/** The digest of a saved state: everything but its audit trail (which ends with the event carrying it). */
export function stateDigest(state: RunState): string {
  const { audit: _audit, ...rest } = state;
  return digestOf(rest);
}

function refuse(runId: unknown, why: string): never {
  throw new QfError('BAD_INPUT', `Cannot resume run ${typeof runId === 'string' ? runId : '(unknown)'}: ${why}. Start a new run (without --resume).`);
}

function same(a: unknown, b: unknown): boolean {
  return digestOf(a) === digestOf(b);
}

/**
 * Checks a run-state.json before a run resumes from it, and returns the state to continue with.
 * The file sits in the output folder, where anyone with write access (or a pull request that
 * commits one) can edit it, so nothing in it is taken on trust:
 * - only a run that stopped waiting for approval resumes (nothing ran yet, no result to carry);
 * - its audit chain must verify and end with the `state.saved` event whose digest is that of the
 *   rest of the file (an edit anywhere shows);
 * - the policy, the change, the plan and the approval requirement are recomputed from the policy
 *   and the change given now, and any difference from the saved ones is refused.
 * The state returned is rebuilt from those recomputed parts; from the file it keeps only the run's
 * id, start time and audit trail.
 */
export function checkResume(saved: unknown, current: { policy: LoadedPolicy; change: ChangeSet }): RunState {
  const state = saved as Partial<RunState> | null;
  if (state === null || typeof state !== 'object' || Array.isArray(state)) refuse(undefined, 'run-state.json does not hold a saved run');
  const { runId } = state;
  if (state.stateVersion !== 1 || typeof runId !== 'string' || typeof state.startedAt !== 'string' || !Array.isArray(state.audit))
    refuse(runId, 'run-state.json is not a run state this version of qf wrote');
  if (state.node !== 'approve' || state.approval?.status !== 'waiting' || (state.steps?.length ?? 0) > 0) {
    refuse(runId, `only a run waiting for approval can be resumed, and this one is at "${String(state.node)}" (approval ${String(state.approval?.status)})`);
  }

  const audit = state.audit as AuditEvent[];
  const chain = verifyAuditChain(audit);
  if (!chain.ok) refuse(runId, `its audit chain is broken at seq ${chain.brokenSeq} (${chain.reason})`);
  const seal = audit.at(-1);
  if (seal?.action !== STATE_SAVED || seal.subject !== runId)
    refuse(runId, `its audit chain does not end with the ${STATE_SAVED} event that binds the file to the run`);
  if (seal.data.digest !== stateDigest(state as RunState))
    refuse(runId, 'run-state.json was changed after it was saved (its digest does not match the one in its audit chain)');

  if (state.policy?.sha256 !== current.policy.sha256) {
    refuse(runId, `its policy had sha256 ${String(state.policy?.sha256).slice(0, 12)}…, the policy given now has ${current.policy.sha256.slice(0, 12)}…`);
  }
  if (!same(state.change, current.change)) refuse(runId, 'the change (base, head, changed files, labels) differs from the one the run was planned for');
  const plan = buildPlan(current.policy, current.change);
  if (!same(state.plan, plan)) refuse(runId, `its saved plan differs from the plan the policy gives for this change (plan ${plan.planHash.slice(0, 12)}…)`);
  const requirement = approvalRequirement(current.policy, current.change);
  if (
    state.approval?.required !== requirement.required ||
    state.approval.needed !== requirement.needed ||
    (state.approval.reason ?? undefined) !== requirement.reason
  ) {
    refuse(
      runId,
      `its saved approval requirement (required: ${String(state.approval?.required)}, needed: ${String(state.approval?.needed)}) differs from the policy's for this change (required: ${requirement.required}, needed: ${requirement.needed})`,
    );
  }

  const policyRef = { path: current.policy.path, sourceRef: current.policy.sourceRef, sha256: current.policy.sha256 };
  return {
    ...initialRunState(runId, state.startedAt, policyRef, current.change),
    node: 'approve',
    plan,
    approval: {
      required: requirement.required,
      needed: requirement.needed,
      ...(requirement.reason ? { reason: requirement.reason } : {}),
      status: 'waiting',
      approvals: [],
      rejected: [],
    },
    audit,
  };
}
