import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../../../src/audit/audit-chain.js';
import { noApprovals } from '../../../src/cli/cli-approval-source.js';
import { approveNode } from '../../../src/orchestrator/nodes/approve.js';
import { loadPolicyNode } from '../../../src/orchestrator/nodes/load-policy.js';
import { planNode } from '../../../src/orchestrator/nodes/plan.js';
import { inRunLedger } from '../../../src/orchestrator/artifact-ledger.js';
import type { RunContext } from '../../../src/orchestrator/run-context.js';
import { initialRunState, type RunState } from '../../../src/orchestrator/run-state.js';
import type { ApprovalSource } from '../../../src/orchestrator/types.js';
import { parsePolicy } from '../../../src/policy/load-policy.js';

const POLICY = parsePolicy(
  `version: 1
tools: { allowlist: [run_pytest] }
plan:
  - { id: unit, when: { changed: ["**/*.py"] }, run: run_pytest }
approval: { required_when: { changed: ["migrations/**"] }, count: 1 }
`,
  { path: 'inline.yml', sourceRef: null },
);
const clock = () => new Date('2026-01-01T00:00:00Z');

function context(approvals: ApprovalSource = noApprovals): RunContext {
  const saved: RunState[] = [];
  return {
    options: {
      repoDir: '/nowhere',
      outDir: '/nowhere/out',
      policy: POLICY,
      change: { base: null, head: null, changedFiles: [], labels: [] },
      approvals,
      env: {},
    },
    policy: POLICY,
    audit: new AuditTrail(clock),
    ledger: inRunLedger('strict', 'p', 'run-1', clock),
    subject: 'run-1',
    checkpoint: async (state) => void saved.push(state),
    repro: new Promise(() => undefined),
  };
}
const state = (changedFiles: string[]) =>
  initialRunState(
    'run-1',
    clock().toISOString(),
    { path: POLICY.path, sourceRef: null, sha256: POLICY.sha256 },
    { base: null, head: null, changedFiles, labels: [] },
  );

describe('the run nodes', () => {
  it('load_policy records the policy and hands the state on unchanged to plan', async () => {
    const ctx = context();
    const before = state(['app.py']);
    const result = await loadPolicyNode(before, ctx);
    expect(result).toEqual({ next: 'plan', state: before });
    expect(ctx.audit.events.map((event) => event.action)).toEqual(['policy.loaded']);
  });

  it('plan returns the plan and the approval requirement in the state, without changing the one it was given', async () => {
    const before = state(['app.py', 'migrations/001.sql']);
    const result = await planNode(before, context());
    expect(result).toMatchObject({ next: 'approve', data: { planHash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    if ('stay' in result) throw new Error('plan never stays');
    expect(result.state.plan?.steps.map((step) => step.id)).toEqual(['unit']);
    expect(result.state.approval).toMatchObject({ required: true, needed: 1, reason: expect.stringContaining('migrations/001.sql') });
    expect(before.plan).toBeNull();
  });

  it('approve goes straight to execute when no approval is needed, stays when one is missing, and ends blocked when rejected', async () => {
    const planned = async (files: string[]) => {
      const result = await planNode(state(files), context());
      return result.state;
    };
    expect(await approveNode(await planned(['app.py']), context())).toMatchObject({ next: 'execute' });

    const waiting = await approveNode(await planned(['migrations/001.sql']), context());
    expect(waiting).toMatchObject({ stay: true, state: { approval: { status: 'waiting' }, judgement: { verdict: 'needs_approval' } } });

    const rejecting: ApprovalSource = { lookup: async () => ({ approvals: [], rejected: [{ by: 'octocat', reason: 'not now' }], notes: [] }) };
    expect(await approveNode(await planned(['migrations/001.sql']), context(rejecting))).toMatchObject({
      next: 'done',
      state: { approval: { status: 'rejected' }, judgement: { verdict: 'blocked', reasons: ['Plan rejected by octocat: not now'] } },
    });
  });
});
