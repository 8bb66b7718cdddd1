import type { EvalCaseResult, EvalSuiteResult, StepResult } from '../../evidence/schema.js';
import type { CaseOutcome } from './run-suite.js';

/** Cases the evidence lists per step (the worst first); evals.json keeps every case. */
export const MAX_LISTED_CASES = 100;
const MAX_TEXT = 300;

/** A value as JSON text, cut to a few hundred characters for evidence and the summary. */
export function clipJson(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

export function caseResult(suite: string, outcome: CaseOutcome): EvalCaseResult {
  return {
    suite,
    id: outcome.id,
    status: outcome.status,
    runs: outcome.runs,
    passes: outcome.passes,
    score: Math.round(outcome.score * 1000) / 1000,
    input: clipJson(outcome.input),
    ...(outcome.expected !== undefined ? { expected: clipJson(outcome.expected) } : {}),
    ...('output' in outcome ? { output: clipJson(outcome.output) } : {}),
    failures: outcome.failures.map((failure) => (failure.length > MAX_TEXT ? `${failure.slice(0, MAX_TEXT)}…` : failure)),
    tokens: outcome.tokens,
    costUsd: outcome.costUsd,
  };
}

const round = (value: number, digits = 4) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * A suite's counts. Every case counts in the pass rate's denominator, whatever stopped it (an
 * error, a veto, a spent budget): a case that did not run did not pass.
 */
export function suiteResult(name: string, file: string, digest: string, cases: readonly EvalCaseResult[]): EvalSuiteResult {
  const count = (status: EvalCaseResult['status']) => cases.filter((entry) => entry.status === status).length;
  const total = cases.length;
  const passed = count('passed');
  const allRuns = cases.filter((entry) => entry.runs > 0 && entry.passes === entry.runs).length;
  return {
    name,
    file,
    digest,
    total,
    passed,
    failed: count('failed'),
    errors: count('error'),
    vetoed: count('vetoed'),
    skipped: count('skipped'),
    passRate: total === 0 ? 1 : round(passed / total),
    passK: total === 0 ? 1 : round(allRuns / total),
    tokens: cases.reduce((sum, entry) => sum + entry.tokens, 0),
    costUsd: round(
      cases.reduce((sum, entry) => sum + entry.costUsd, 0),
      6,
    ),
    regressions: cases.filter((entry) => entry.comparison === 'regressed').length,
    fixed: cases.filter((entry) => entry.comparison === 'fixed').length,
  };
}

const STATUS_RANK: Record<EvalCaseResult['status'], number> = { error: 1, failed: 2, vetoed: 3, skipped: 4, passed: 5 };
const COMPARISON_RANK: Record<NonNullable<EvalCaseResult['comparison']>, number> = { regressed: 0, removed: 6, new: 7, fixed: 8, unchanged: 9 };

/** Worst first: regressions, then cases that errored, failed, were vetoed or skipped (lowest score first), then the rest. */
export function worstFirst(a: EvalCaseResult, b: EvalCaseResult): number {
  const rank = (entry: EvalCaseResult) => (entry.comparison === 'regressed' ? 0 : STATUS_RANK[entry.status]);
  const tie = (entry: EvalCaseResult) => (entry.comparison ? COMPARISON_RANK[entry.comparison] : 9);
  return rank(a) - rank(b) || a.score - b.score || tie(a) - tie(b) || a.suite.localeCompare(b.suite) || a.id.localeCompare(b.id);
}

/** The cases worth listing: any not passed, or whose outcome changed since the base. */
export function notableCases(cases: readonly EvalCaseResult[]): { cases: EvalCaseResult[]; truncated: boolean } {
  const notable = cases.filter((entry) => entry.status !== 'passed' || (entry.comparison !== undefined && entry.comparison !== 'unchanged')).sort(worstFirst);
  return { cases: notable.slice(0, MAX_LISTED_CASES), truncated: notable.length > MAX_LISTED_CASES };
}

/** The evals.* metrics of suites run together (one step, or every step of a run). */
export function evalMetrics(suites: readonly EvalSuiteResult[], compared: boolean): Record<string, number> {
  const sum = (pick: (suite: EvalSuiteResult) => number) => suites.reduce((total, suite) => total + pick(suite), 0);
  const total = sum((suite) => suite.total);
  const passed = sum((suite) => suite.passed);
  const metrics: Record<string, number> = {
    'evals.total': total,
    'evals.passed': passed,
    // Cases that ran and did not pass: a crash or a wrong answer alike.
    'evals.failed': sum((suite) => suite.failed + suite.errors),
    'evals.errors': sum((suite) => suite.errors),
    'evals.vetoed': sum((suite) => suite.vetoed),
    'evals.skipped': sum((suite) => suite.skipped),
    'evals.pass_rate': total === 0 ? 1 : round(passed / total),
    'evals.pass_k': total === 0 ? 1 : round(sum((suite) => suite.passK * suite.total) / total),
    'evals.tokens': sum((suite) => suite.tokens),
    'evals.cost_usd': round(
      sum((suite) => suite.costUsd),
      6,
    ),
  };
  if (compared) {
    metrics['evals.regressions'] = sum((suite) => suite.regressions);
    metrics['evals.fixed'] = sum((suite) => suite.fixed);
  }
  for (const suite of suites) metrics[`evals.${suite.name}.pass_rate`] = suite.passRate;
  return metrics;
}

/** The run's evals metrics from every run_evals step's suites (a suite named twice counts twice). */
export function aggregateEvalMetrics(steps: readonly StepResult[]): Record<string, number> {
  const suites = steps.flatMap((step) => step.evals?.suites ?? []);
  if (suites.length === 0) return {};
  return evalMetrics(
    suites,
    steps.some((step) => step.metrics['evals.regressions'] !== undefined),
  );
}
