import type { KeyObject } from 'node:crypto';
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AuditTrail } from '../audit/audit-chain.js';
import { EvidenceFile, type ExitCode } from '../constants.js';
import { prepareOutputFolder, writeFileAtomic } from '../evidence/output-folder.js';
import type { Evidence, StepResult } from '../evidence/schema.js';
import { assembleEvidence, type EvidenceInput, writeEvidence } from '../evidence/write-evidence.js';
import { judge } from '../gate/judge.js';
import { inRunLedger } from '../orchestrator/artifact-ledger.js';
import { collectMetrics } from '../orchestrator/collect-metrics.js';
import { VERDICT_EXIT } from '../orchestrator/finish-run.js';
import { blockingFindings } from '../orchestrator/govern-run.js';
import type { ApprovalSource } from '../orchestrator/types.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import { renderSummary, summaryMarkdown } from '../report/render-summary.js';
import { MAX_STEP_FILE_BYTES, readConfinedFile } from '../util/open-confined-file.js';
import { declareShardArtifacts } from './declare-shard-artifacts.js';
import { type AcceptedShard, readShardBundle, type ShardBundle } from './read-shard-bundle.js';

export interface MergeShardsOptions {
  /** The shards' evidence folders that were found; a shard of 1..total with none is missing. */
  bundles: readonly ShardBundle[];
  total: number;
  policy: LoadedPolicy;
  /** The commit the merge is for (the Action knows it); null: the shards must only agree among themselves. */
  headSha: string | null;
  /** Where a shard's required approvals are looked up (the Action: check runs; the CLI: the shard's own records). */
  approvals: (evidence: Evidence) => ApprovalSource;
  publicKey?: KeyObject;
  outDir: string;
  clock?: () => Date;
}

export type MergeOutcome = { ok: true; evidence: Evidence; evidencePath: string; summaryPath: string; exitCode: ExitCode } | { ok: false; problems: string[] };

/**
 * Merges a matrix's shard bundles into one verdict: checks each bundle as publish mode checks an
 * untrusted one (any that fails is a rejection, as in publish mode), declares every shard's results
 * as PSMP artifacts of one iteration (see declareShardArtifacts), judges the merged metrics once under
 * the policy's mode (conflicts block in strict mode, wait for a human in adaptive, are reported in
 * playground), and writes OUT/evidence.json and OUT/summary.md with each shard's bundle under
 * OUT/shards/<index>/, indexed and sealed with the rest.
 */
export async function mergeShards(options: MergeShardsOptions): Promise<MergeOutcome> {
  const clock = options.clock ?? (() => new Date());
  const expected = {
    policy: options.policy,
    policySha256: options.policy.sha256,
    approvals: options.approvals,
    ...(options.publicKey ? { publicKey: options.publicKey } : {}),
  };
  const accepted: AcceptedShard[] = [];
  const problems: string[] = [];
  for (const bundle of options.bundles) {
    const label = bundle.artifact ? `artifact ${bundle.artifact.name}` : bundle.dir;
    const check = await readShardBundle(bundle, expected);
    if (!check.ok) {
      problems.push(...check.problems.map((problem) => `${label}: ${problem}`));
      continue;
    }
    const { shard } = check.shard;
    if (shard.total !== options.total || shard.index > options.total)
      problems.push(`${label}: it is shard ${shard.index} of ${shard.total}, not one of the ${options.total} shards this merge expects`);
    else if (accepted.some((other) => other.shard.index === shard.index)) problems.push(`${label}: a second bundle of shard ${shard.index}`);
    else accepted.push(check.shard);
  }
  if (problems.length > 0) return { ok: false, problems };
  if (accepted.length === 0) return { ok: false, problems: [`none of the ${options.total} shards' evidence was found`] };
  accepted.sort((a, b) => a.shard.index - b.shard.index);

  await prepareOutputFolder(options.outDir, { resume: false });
  const first = accepted[0]!.evidence;
  const subject = first.runId;
  const audit = new AuditTrail(clock);
  audit.record({ actor: 'merge', action: 'merge.started', subject, data: { total: options.total, found: accepted.map((shard) => shard.shard.index) } });
  const steps: StepResult[] = [];
  for (const shard of accepted) {
    const folder = `${EvidenceFile.shardsDir}/${shard.shard.index}`;
    await copyBundle(shard, path.join(options.outDir, folder));
    // A step that split its work counts in every shard; one that could not split (a lint command) ran
    // whole in each, so it counts once, from the lowest shard (PSMP checks that the others agree).
    const whole = new Set(steps.filter((step) => !step.selection).map((step) => step.id.slice(step.id.indexOf('/') + 1)));
    for (const step of shard.evidence.steps) if (step.selection || !whole.has(step.id)) steps.push(inFolder(step, shard.shard.index, folder));
    audit.record({
      actor: 'merge',
      action: 'shard.accepted',
      subject,
      data: {
        index: shard.shard.index,
        runId: shard.evidence.runId,
        headSha: shard.evidence.change.head,
        verdict: shard.evidence.gate.verdict,
        bundle: folder,
      },
    });
  }

  const { mode } = options.policy.policy;
  const ledger = inRunLedger(mode, first.repro.gitSha ?? subject, subject, clock);
  const report = await declareShardArtifacts(ledger, accepted, { total: options.total, headSha: options.headSha, audit, subject });
  if (report.unresolved.length > 0)
    audit.record({
      actor: 'merge',
      action: 'psmp.report',
      subject,
      data: { decision: report.decision, unresolved: report.unresolved.map((conflict) => conflict.id), reasons: report.reasons.slice(0, 50) },
    });
  const budget = {
    usedMs: accepted.reduce((sum, shard) => sum + shard.evidence.governance.budget.usedSeconds * 1000, 0),
    retries: accepted.reduce((sum, shard) => sum + shard.evidence.governance.budget.retries, 0),
  };
  const blockingConflicts = report.blocked ? report.unresolved.length : 0;
  const metrics = {
    ...collectMetrics(steps, budget),
    'governance.conflicts': report.unresolved.length,
    'governance.vetoes': 0,
    'governance.blocking_conflicts': blockingConflicts,
  };
  const shortCircuit = accepted.find((shard) => shard.evidence.governance.shortCircuit)?.evidence.governance.shortCircuit ?? null;
  const waiting = accepted.some((shard) => shard.evidence.gate.verdict === 'needs_approval');
  const gate = judge({ policy: options.policy.policy, metrics, steps, approvalWaiting: waiting, shortCircuit, blockingFindings: blockingFindings(report) });
  audit.record({
    actor: 'gate',
    action: 'gate.decided',
    subject,
    data: { verdict: gate.verdict, failedRules: gate.rules.filter((rule) => rule.status === 'fail').map((rule) => rule.id) },
  });

  const input: EvidenceInput = {
    complete: accepted.every((shard) => shard.evidence.complete),
    ...(accepted.some((shard) => !shard.evidence.complete) ? { incompleteReason: 'a shard did not complete' } : {}),
    runId: subject,
    startedAt: accepted.map((shard) => shard.evidence.startedAt).sort()[0]!,
    finishedAt: clock().toISOString(),
    repro: first.repro,
    policy: { path: options.policy.path, sourceRef: options.policy.sourceRef, sha256: options.policy.sha256, mode },
    change: first.change,
    plan: first.plan,
    approval: first.approval,
    steps,
    metrics,
    gate,
    governance: {
      mode,
      budget: {
        totalSeconds: options.policy.policy.budget.total_seconds,
        usedSeconds: Math.round(budget.usedMs) / 1000,
        maxRetries: options.policy.policy.budget.max_retries,
        retries: budget.retries,
      },
      shortCircuit,
      conflicts: report.unresolved.map((conflict) => ({ ...conflict })),
      vetoes: [],
    },
    merge: {
      total: options.total,
      shards: Array.from({ length: options.total }, (_, at) => {
        const shard = accepted.find((candidate) => candidate.shard.index === at + 1);
        if (!shard)
          return {
            index: at + 1,
            bundle: null,
            runId: null,
            headSha: null,
            planHash: null,
            verdict: null,
            evidenceDigest: null,
            artifact: null,
            problems: ['missing: no evidence of this shard was found'],
          };
        const seal = shard.evidence.audit.at(-1)?.data.digest;
        return {
          index: at + 1,
          bundle: `${EvidenceFile.shardsDir}/${at + 1}`,
          runId: shard.evidence.runId,
          headSha: shard.evidence.change.head,
          planHash: shard.evidence.plan.planHash,
          verdict: shard.evidence.gate.verdict,
          evidenceDigest: typeof seal === 'string' ? seal : null,
          artifact: shard.bundle.artifact ?? null,
          problems: [],
        };
      }),
    },
  };
  const summaryPath = path.join(options.outDir, EvidenceFile.summary);
  await writeFileAtomic(summaryPath, summaryMarkdown(renderSummary(assembleEvidence(input, [], audit.events))));
  const evidence = await writeEvidence(options.outDir, input, audit);
  return { ok: true, evidence, evidencePath: path.join(options.outDir, EvidenceFile.evidence), summaryPath, exitCode: VERDICT_EXIT[gate.verdict] };
}

/** A shard's step as the merged evidence shows it: its id and every path prefixed with the shard. */
function inFolder(step: StepResult, index: number, folder: string): StepResult {
  return {
    ...step,
    id: `shard-${index}/${step.id}`,
    artifacts: step.artifacts.map((file) => `${folder}/${file}`),
    ...(step.selection ? { selection: { ...step.selection, list: `${folder}/${step.selection.list}` } } : {}),
  };
}

/** Copies exactly the files the shard's (verified) evidence names, read as regular files inside its folder: nothing else in it comes along. */
async function copyBundle(shard: AcceptedShard, target: string): Promise<void> {
  const names = [EvidenceFile.evidence, ...shard.evidence.artifacts.map((artifact) => artifact.path)];
  const signature = await lstat(path.join(shard.bundle.dir, EvidenceFile.signature)).catch(() => undefined);
  if (signature?.isFile()) names.push(EvidenceFile.signature);
  for (const name of names) {
    const bytes = await readConfinedFile(path.join(shard.bundle.dir, name), { within: shard.bundle.dir, maxBytes: MAX_STEP_FILE_BYTES });
    await mkdir(path.dirname(path.join(target, name)), { recursive: true });
    await writeFile(path.join(target, name), bytes, { flag: 'wx' });
  }
}
