import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { AuditTrail } from '../audit/audit-chain.js';
import { DEFAULT_PYTHON, EvidenceFile, ExitCode } from '../constants.js';
import { errorMessage, QfError } from '../errors.js';
import { dependencyFingerprint, gitRepro, parseVersionProbe, VERSION_PROBE_ARGS } from '../evidence/repro.js';
import type { ArtifactEntry, Evidence } from '../evidence/schema.js';
import { createFreshFolder, prepareOutputFolder, PROBE_FOLDER, writeFileAtomic } from '../evidence/output-folder.js';
import { assembleEvidence, writeEvidence } from '../evidence/write-evidence.js';
import { judge, type Judgement } from '../gate/judge.js';
import { approvalRequirement, buildPlan } from '../planner/build-plan.js';
import { renderSummary, summaryMarkdown } from '../report/render-summary.js';
import { buildSandboxEnv } from '../sandbox/sandbox-env.js';
import { defaultCreateSandbox } from '../sandbox/default-create-sandbox.js';
import type { Sandbox } from '../sandbox/types.js';
import { acceptApprovals } from './accept-approvals.js';
import { checkResume, STATE_SAVED, stateDigest } from './check-resume.js';
import { inRunLedger, type ArtifactLedger } from './artifact-ledger.js';
import { blockingFindings, declareStepArtifacts } from './govern-run.js';
import { indexArtifacts } from '../evidence/artifact-index.js';
import { collectMetrics } from './collect-metrics.js';
import { initialRunState, TRANSITIONS, type RunState } from './run-state.js';
import { refusedStep, runStep, skippedStep } from './run-step.js';
import type { OrchestrateOptions, RunNode, RunOutcome } from './types.js';

export interface OrchestrateRunOptions extends OrchestrateOptions {
  /** Continue a run saved in run-state.json (after an approval) instead of starting anew. */
  resume?: RunState;
  /** Aborting writes evidence marked incomplete, with the reason, and stops. */
  signal?: AbortSignal;
  /** Where step results are declared as PSMP artifacts; default: checked within this run only. */
  ledger?: ArtifactLedger;
  /** The project the run belongs to (`owner/name`); default: the repository folder's name. */
  projectId?: string;
  /**
   * The PSMP iteration this run declares its artifacts in: each run of a project is a new one, so a
   * re-run is a newer version, not a conflict. Shards of one run share it. Default 1.
   */
  iteration?: number;
}

const VERDICT_EXIT: Record<Evidence['gate']['verdict'], ExitCode> = {
  pass: ExitCode.pass,
  fail: ExitCode.gateFailed,
  blocked: ExitCode.gateFailed,
  needs_approval: ExitCode.waitingForHuman,
};

/**
 * Runs the state machine load_policy → plan → approve → execute → collect → judge → done for one
 * change, writing OUT/evidence.json and OUT/summary.md. Every transition is an audit event and
 * the state is saved after each node, so a run waiting for a human can resume later.
 */
export async function orchestrate(options: OrchestrateRunOptions): Promise<RunOutcome> {
  const clock = options.clock ?? (() => new Date());
  const { policy } = options.policy;
  await prepareOutputFolder(options.outDir, { resume: options.resume !== undefined });

  // A saved state is checked against the policy and the change given now, never trusted (see checkResume).
  const state: RunState = options.resume
    ? checkResume(options.resume, { policy: options.policy, change: options.change })
    : initialRunState(options.runId ?? randomUUID(), clock().toISOString(), { path: options.policy.path, sourceRef: options.policy.sourceRef, sha256: options.policy.sha256 }, options.change);
  const audit = options.audit ?? new AuditTrail(clock, state.audit);
  const subject = state.runId;
  if (options.resume) audit.record({ actor: 'orchestrator', action: 'run.resumed', subject, data: { stateDigest: stateDigest(options.resume) } });
  const statePath = path.join(options.outDir, EvidenceFile.runState);

  // run-state.json is written where a run stops or may be resumed from: waiting for approval,
  // after each step, and at the end (not on every transition: nothing resumes between them).
  const saveState = async (resumable = false) => {
    // A state a run may resume from ends its audit chain with the digest of the rest of the file.
    if (resumable) audit.record({ actor: 'orchestrator', action: STATE_SAVED, subject, data: { digest: stateDigest(state) } });
    state.audit = [...audit.events];
    await writeFileAtomic(statePath, JSON.stringify(state) + '\n');
  };
  const enter = (to: RunNode, data: Record<string, unknown> = {}) => {
    if (!TRANSITIONS[state.node].includes(to)) throw new Error(`Illegal transition ${state.node} → ${to}`);
    audit.record({ actor: 'orchestrator', action: 'transition', subject, data: { from: state.node, to, ...data } });
    state.node = to;
    options.onProgress?.({ kind: 'node', node: to });
  };
  // git's look at the repository (commit, branch, dirty flag, lockfiles) is not needed until the
  // evidence is written, so it runs alongside the first step, once that step shows signs of life,
  // rather than in front of it.
  let repro: ReturnType<typeof readRepro> | undefined;
  const startRepro = () => (repro ??= readRepro(options.repoDir));
  let sandbox: Sandbox | undefined;

  let governance: { conflicts: Array<Record<string, unknown>>; vetoes: Array<Record<string, unknown>> } = { conflicts: [], vetoes: [] };
  /** Unresolved conflicts that block; known once the run has been judged. */
  let blockingConflicts: number | undefined;
  /** Step artifacts indexed for PSMP, reused when evidence.json indexes the folder. */
  let indexedArtifacts: ArtifactEntry[] = [];
  const runMetrics = (): Record<string, number> => ({
    ...collectMetrics(state.steps, state.budget),
    'governance.conflicts': governance.conflicts.length,
    'governance.vetoes': governance.vetoes.length,
    ...(blockingConflicts !== undefined ? { 'governance.blocking_conflicts': blockingConflicts } : {}),
  });

  const finish = async (judgement: Judgement, complete: boolean, incompleteReason?: string): Promise<RunOutcome> => {
    const [git, fingerprint] = await startRepro();
    const metrics = runMetrics();
    const summaryPath = path.join(options.outDir, EvidenceFile.summary);
    const parts = {
      state, policy, judgement, metrics, complete, governance,
      ...(incompleteReason !== undefined ? { incompleteReason } : {}),
      finishedAt: clock().toISOString(),
      repro: { ...git, dependencyFingerprint: fingerprint, versions: { node: process.version, ...state.versions } },
    };
    // summary.md is an artifact of the evidence, so it is rendered first, from the evidence before
    // its artifact index and seal (the summary shows neither).
    await writeFileAtomic(summaryPath, summaryMarkdown(renderSummary(assembleEvidence(parts, [], audit.events))));
    const evidence = await writeEvidence(options.outDir, parts, audit, indexedArtifacts);
    await saveState(state.node === 'approve' && state.approval.status === 'waiting');
    return { evidence, evidencePath: path.join(options.outDir, EvidenceFile.evidence), summaryPath, exitCode: complete ? VERDICT_EXIT[judgement.verdict] : ExitCode.badInput };
  };

  try {
    if (state.node === 'load_policy') {
      audit.record({ actor: 'orchestrator', action: 'policy.loaded', subject, data: { path: options.policy.path, sourceRef: options.policy.sourceRef, sha256: options.policy.sha256, mode: policy.mode } });
      enter('plan');
    }
    if (state.node === 'plan') {
      state.plan = buildPlan(options.policy, state.change);
      const requirement = approvalRequirement(options.policy, state.change);
      state.approval = { ...state.approval, required: requirement.required, needed: requirement.needed, ...(requirement.reason ? { reason: requirement.reason } : {}) };
      audit.record({ actor: 'orchestrator', action: 'plan.built', subject, data: { planHash: state.plan.planHash, steps: state.plan.steps.map((step) => step.id), approvalRequired: requirement.required } });
      enter('approve', { planHash: state.plan.planHash });
    }
    const plan = state.plan!;

    if (state.node === 'approve') {
      if (state.approval.required) {
        const lookup = await options.approvals.lookup(plan.planHash, state.change.head);
        const { accepted, notes } = acceptApprovals(lookup, { planHash: plan.planHash, headSha: state.change.head, ...(state.change.author ? { author: state.change.author } : {}), policy });
        for (const note of notes) audit.record({ actor: 'orchestrator', action: 'approval.ignored', subject, data: { note } });
        for (const approval of accepted) audit.record({ actor: approval.by, action: 'approval.accepted', subject, data: { planHash: approval.planHash, source: approval.source, headSha: approval.headSha ?? null } });
        state.approval = { ...state.approval, approvals: accepted, rejected: lookup.rejected };
        if (lookup.rejected.length > 0) {
          state.approval.status = 'rejected';
          for (const rejection of lookup.rejected) audit.record({ actor: rejection.by, action: 'approval.rejected', subject, data: { reason: rejection.reason, planHash: plan.planHash } });
          enter('done', { outcome: 'rejected' });
          const reasons = lookup.rejected.map((rejection) => `Plan rejected by ${rejection.by}: ${rejection.reason}`);
          return await finish({ verdict: 'blocked', rules: [], reasons }, true);
        }
        if (accepted.length < state.approval.needed) {
          state.approval.status = 'waiting';
          audit.record({ actor: 'orchestrator', action: 'approval.waiting', subject, data: { planHash: plan.planHash, have: accepted.length, needed: state.approval.needed } });
          await saveState();
          const judgement = judge({ policy, metrics: {}, steps: [], approvalWaiting: true, shortCircuit: null });
          judgement.reasons.push(`Needs ${state.approval.needed} approval(s), has ${accepted.length}. Why: ${state.approval.reason}.`, ...notes);
          // The run stays resumable at `approve`: its state is saved, the node is not left.
          return await finish(judgement, true);
        }
        state.approval.status = 'approved';
      }
      enter('execute');
    }

    if (state.node === 'execute') {
      const env = buildSandboxEnv(options.env, policy.sandbox.env_allowlist);
      const totalMs = policy.budget.total_seconds * 1000;
      if (plan.steps.some((step) => policy.tools.allowlist.includes(step.tool))) {
        sandbox = await (options.createSandbox ?? defaultCreateSandbox)(policy.sandbox, audit);
      }
      for (const step of plan.steps.slice(state.steps.length)) {
        if (options.signal?.aborted) throw new QfError('BAD_INPUT', `Run interrupted (${String(options.signal.reason ?? 'aborted')}) before step ${step.id}.`);
        if (state.shortCircuit) {
          state.steps.push(skippedStep(step, `skipped: ${state.shortCircuit.reason}`));
          continue;
        }
        const remaining = totalMs - state.budget.usedMs;
        if (remaining <= 0) {
          state.shortCircuit = { reason: `the run's budget of ${policy.budget.total_seconds} s is spent`, atStep: step.id };
          audit.record({ actor: 'orchestrator', action: 'run.short_circuit', subject, data: state.shortCircuit });
          state.steps.push(skippedStep(step, `skipped: ${state.shortCircuit.reason}`));
          continue;
        }
        if (!sandbox) {
          state.steps.push(refusedStep(step, `tool "${step.tool}" is not in the policy's tools.allowlist`));
          audit.record({ actor: 'orchestrator', action: 'tool.refused', subject, data: { step: step.id, tool: step.tool } });
          continue;
        }
        const stepStarted = performance.now();
        options.onProgress?.({ kind: 'step-started', stepId: step.id, tool: step.tool, attempt: 1 });
        const { result, retries, budgetCut, versions } = await runStep(step, {
          policy, repoDir: options.repoDir, outDir: options.outDir, sandbox, env, audit, subject, remainingBudgetMs: remaining,
          onAttempt: (attempt) => attempt > 1 && options.onProgress?.({ kind: 'step-started', stepId: step.id, tool: step.tool, attempt }),
          onOutput: () => {
            startRepro();
            options.onProgress?.({ kind: 'step-output', stepId: step.id, elapsedMs: performance.now() - stepStarted });
          },
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (options.signal?.aborted) throw new QfError('BAD_INPUT', `Run interrupted (${String(options.signal.reason ?? 'aborted')}) during step ${step.id}; its result is not used.`);
        state.steps.push(result);
        if (versions && !state.versions.python) state.versions = versions;
        state.budget.usedMs += result.durationMs;
        state.budget.retries += retries;
        options.onProgress?.({ kind: 'step-finished', stepId: step.id, status: result.status, durationMs: result.durationMs });
        if (budgetCut) {
          state.shortCircuit = { reason: `the run's budget of ${policy.budget.total_seconds} s ran out during step ${step.id}`, atStep: step.id };
          audit.record({ actor: 'orchestrator', action: 'run.short_circuit', subject, data: state.shortCircuit });
        } else if (step.failFast && result.status !== 'passed') {
          state.shortCircuit = { reason: `fail-fast step ${step.id} ended ${result.status}`, atStep: step.id };
          audit.record({ actor: 'orchestrator', action: 'run.short_circuit', subject, data: state.shortCircuit });
        }
        await saveState();
      }
      // pytest's header names its versions; probe only when no step printed it (e.g. `-q`).
      if (sandbox && !state.versions.python) state.versions = await probeVersions(sandbox, options.repoDir, options.outDir, env, plan);
      enter('collect');
    }

    const ledger = options.ledger ?? inRunLedger(policy.mode, options.projectId ?? path.basename(options.repoDir), state.runId, clock);
    // summary.md is left out: it is (re)written when the run finishes.
    // Files it refuses to read (links, pipes) are audited once, when evidence.json indexes the folder.
    indexedArtifacts = await indexArtifacts(options.outDir, [EvidenceFile.evidence, EvidenceFile.runState, EvidenceFile.summary]);
    const digests = new Map(indexedArtifacts.map((entry) => [entry.path, entry.sha256]));
    const report = await declareStepArtifacts(ledger, state.steps, { producerPrefix: '', iteration: options.iteration ?? 1, artifactDigests: digests, audit, subject });
    governance = { conflicts: report.unresolved.map((conflict) => ({ ...conflict })), vetoes: [] };
    if (state.node === 'collect') enter('judge');
    blockingConflicts = report.blocked ? report.unresolved.length : 0;
    const metrics = runMetrics();
    const judgement = judge({ policy, metrics, steps: state.steps, approvalWaiting: false, shortCircuit: state.shortCircuit, blockingFindings: blockingFindings(report) });
    audit.record({ actor: 'gate', action: 'gate.decided', subject, data: { verdict: judgement.verdict, failedRules: judgement.rules.filter((rule) => rule.status === 'fail').map((rule) => rule.id) } });
    enter('done', { verdict: judgement.verdict });
    return await finish(judgement, true);
  } catch (error) {
    // Never leave a partial evidence.json that looks complete: write it marked incomplete, then fail.
    const reason = errorMessage(error);
    audit.record({ actor: 'orchestrator', action: 'run.aborted', subject, data: { node: state.node, reason } });
    await finish({ verdict: 'blocked', rules: [], reasons: [`Run did not complete: ${reason}`] }, false, reason).catch(() => undefined);
    throw error;
  }
}

function readRepro(repoDir: string) {
  return Promise.all([gitRepro(repoDir), dependencyFingerprint(repoDir)]);
}

async function probeVersions(sandbox: Sandbox, repoDir: string, outDir: string, env: Record<string, string>, plan: RunState['plan']): Promise<RunState['versions']> {
  const pytestStep = plan?.steps.find((step) => step.tool === 'run_pytest');
  if (!pytestStep) return { python: null, pytest: null };
  const python = typeof pytestStep.input.python === 'string' ? pytestStep.input.python : DEFAULT_PYTHON;
  const probeDir = await createFreshFolder(outDir, PROBE_FOLDER);
  const result = await sandbox.run({ command: python, args: VERSION_PROBE_ARGS, repoDir, outputDir: probeDir, env, timeoutMs: 30_000, maxOutputBytes: 4_096 }).catch(() => undefined);
  await rm(probeDir, { recursive: true, force: true });
  return result?.exitCode === 0 ? parseVersionProbe(result.stdout.text) : { python: null, pytest: null };
}
