import { upgradeEvidenceV1 } from '../evidence/evidence-v1.js';
import { readEvidence } from '../evidence/read-evidence.js';
import type { Evidence, GateRuleResult } from '../evidence/schema.js';
import { errorMessage } from '../errors.js';
import type { RunRecord } from '../store/types.js';
import { evidenceUri } from './evidence-uri.js';

/** Failed tests listed per summary; the evidence resource has every one. */
export const MAX_FAILED_TESTS = 50;

export interface FailedTest {
  id: string;
  outcome: string;
  /** `tests/test_x.py:7` when the report named a file (and line), else null. */
  location: string | null;
  message: string | null;
}

export interface RunSummary extends Record<string, unknown> {
  runId: string;
  projectId: string;
  verdict: string | null;
  startedAt: string;
  finishedAt: string | null;
  headSha: string | null;
  complete: boolean | null;
  reasons: string[];
  failedRules: Array<Pick<GateRuleResult, 'id' | 'metric' | 'op' | 'expected' | 'observed' | 'reason'>>;
  /** Null when the store holds no evidence with per-test results for this run (see `note`). */
  failedTests: FailedTest[] | null;
  failedTestsOmitted: number;
  steps: Array<{ id: string; tool: string; status: string; reason?: string; tests?: Record<string, number> }>;
  /** The MCP resource of the full evidence.json, when the store knows where it is. */
  evidenceUri: string | null;
  note?: string;
}

/** The evidence.json a run recorded by `qf run --db` (or run_pytest) points at; null for ingested runs. */
export function evidencePathOf(run: RunRecord): string | null {
  return typeof run.data.evidencePath === 'string' ? run.data.evidencePath : null;
}

/** Reads and strictly checks a run's evidence.json (it may sit in a folder tested code wrote to). */
export async function readRunEvidence(run: RunRecord): Promise<Evidence> {
  const file = evidencePathOf(run);
  if (!file) throw new Error(`run ${run.id} has no evidence.json recorded in the store`);
  const evidence = await readEvidence(file);
  return evidence.schemaVersion === 1 ? upgradeEvidenceV1(evidence) : evidence;
}

/**
 * What a run decided, verdict first: the failed rules with observed vs expected, then the failed
 * tests with file:line. From the run's evidence.json when the store knows it (runs of `qf run --db`
 * and run_pytest); from what the bot kept of an ingested bundle otherwise (rules and reasons, no tests).
 */
export async function summarizeRun(run: RunRecord): Promise<RunSummary> {
  const base = {
    runId: run.id,
    projectId: run.projectId,
    verdict: run.verdict,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    headSha: run.headSha,
  };
  if (evidencePathOf(run)) {
    try {
      return { ...base, ...fromEvidence(await readRunEvidence(run)), evidenceUri: evidenceUri(run.id) };
    } catch (error) {
      return { ...base, ...fromRunData(run), note: `evidence.json could not be read (${errorMessage(error)}); this is what the store kept` };
    }
  }
  return {
    ...base,
    ...fromRunData(run),
    note: 'the store keeps the rules and reasons of ingested runs, not per-test results; the workflow run’s artifact has them',
  };
}

function fromEvidence(evidence: Evidence) {
  const failures = evidence.steps.flatMap((step) => step.tests?.notable ?? []).filter((test) => test.outcome === 'failed' || test.outcome === 'error');
  return {
    verdict: evidence.gate.verdict,
    complete: evidence.complete,
    reasons: evidence.gate.reasons,
    failedRules: failedRules(evidence.gate.rules),
    failedTests: failures.slice(0, MAX_FAILED_TESTS).map((test) => ({
      id: test.id,
      outcome: test.outcome,
      location: test.file ? `${test.file}${test.line ? `:${test.line}` : ''}` : null,
      message: test.message ? test.message.split('\n')[0]!.slice(0, 500) : null,
    })),
    failedTestsOmitted: Math.max(0, failures.length - MAX_FAILED_TESTS),
    steps: evidence.steps.map((step) => ({
      id: step.id,
      tool: step.tool,
      status: step.status,
      ...(step.reason ? { reason: step.reason } : {}),
      ...(step.tests ? { tests: step.tests.counts } : {}),
    })),
  };
}

function fromRunData(run: RunRecord) {
  const { data } = run;
  const rules = Array.isArray(data.rules) ? (data.rules as GateRuleResult[]) : [];
  const steps = Array.isArray(data.steps) ? (data.steps as Array<{ id: string; tool: string; status: string }>) : [];
  return {
    complete: typeof data.complete === 'boolean' ? data.complete : typeof data.evidenceComplete === 'boolean' ? data.evidenceComplete : null,
    reasons: Array.isArray(data.reasons) ? data.reasons.map(String) : Array.isArray(data.rejected) ? data.rejected.map(String) : [],
    failedRules: failedRules(rules),
    failedTests: null,
    failedTestsOmitted: 0,
    steps: steps.map((step) => ({ id: String(step.id), tool: String(step.tool), status: String(step.status) })),
    evidenceUri: null,
  };
}

function failedRules(rules: readonly GateRuleResult[]) {
  return rules
    .filter((rule) => rule.status === 'fail')
    .map(({ id, metric, op, expected, observed, reason }) => ({ id, metric, op, expected, observed, reason }));
}
