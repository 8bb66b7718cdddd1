import type { EvalCaseStatus } from '../../evidence/schema.js';
import { checkAssertion, runScore, type AssertionResult } from './check-assertion.js';
import type { TargetOutcome } from './run-target.js';
import type { EvalCase, Suite } from './suite-schema.js';

/** One case's full result, as the step's evals.json keeps it. */
export interface CaseOutcome {
  id: string;
  status: EvalCaseStatus;
  runs: number;
  passes: number;
  score: number;
  input: unknown;
  expected?: unknown;
  /** The output of the first run that did not pass, else of the first run. */
  output?: unknown;
  failures: string[];
  assertions: AssertionResult[];
  latencyMs: number;
  tokens: number;
  costUsd: number;
}

/** Runs a target once for a case; the suite runner decides how often and with what deadline. */
export type RunOnce = (evalCase: EvalCase, timeoutMs: number) => Promise<TargetOutcome>;

export interface SuiteRunOptions {
  runOnce: RunOnce;
  /** Milliseconds left for the whole step; when spent, the remaining cases are skipped. */
  deadlineAt: number;
  now?: () => number;
}

/** The runs of one case: passes once `min_passes` of `repeat` runs reached the case threshold. */
async function runCase(suite: Suite, evalCase: EvalCase, options: SuiteRunOptions): Promise<CaseOutcome | undefined> {
  const now = options.now ?? (() => performance.now());
  const repeat = evalCase.repeat ?? suite.repeat;
  const minPasses = Math.min(repeat, evalCase.min_passes ?? suite.min_passes ?? repeat);
  const threshold = evalCase.threshold ?? suite.threshold;
  const assertions = [...suite.assert, ...evalCase.assert];
  const base = { id: evalCase.id, input: evalCase.input ?? evalCase.vars ?? null, ...(evalCase.expected !== undefined ? { expected: evalCase.expected } : {}) };
  let passes = 0;
  let errors = 0;
  let scoreSum = 0;
  let latencyMs = 0;
  let tokens = 0;
  let costUsd = 0;
  let first: { output?: unknown; failures: string[]; assertions: AssertionResult[] } | undefined;
  let firstFailure: typeof first;
  let runs = 0;
  // Every run is made, even once the case has passed: pass^k needs all k of them.
  for (; runs < repeat; runs++) {
    const left = options.deadlineAt - now();
    if (left <= 0) break;
    const outcome = await options.runOnce(evalCase, Math.max(1, Math.min((evalCase.timeout_seconds ?? suite.timeout_seconds) * 1000, left)));
    latencyMs += outcome.latencyMs;
    tokens += outcome.tokens;
    costUsd += outcome.costUsd;
    if (!outcome.ok) {
      errors++;
      firstFailure ??= { failures: [outcome.error], assertions: [] };
      continue;
    }
    const results = assertions.map((assertion) => checkAssertion(assertion, outcome.output, evalCase.expected, outcome));
    const score = runScore(results);
    scoreSum += score;
    first ??= { output: outcome.output, failures: [], assertions: results };
    if (score >= threshold) {
      passes++;
      continue;
    }
    const failed = results.filter((result) => !result.passed).map((result) => `${result.type}: ${result.message}`);
    firstFailure ??= { output: outcome.output, failures: failed.length ? failed : [`score ${score.toFixed(3)} < threshold ${threshold}`], assertions: results };
  }
  if (runs === 0) return undefined;
  const status: EvalCaseStatus = passes >= minPasses ? 'passed' : errors === runs ? 'error' : 'failed';
  const kept = (status === 'passed' ? first : firstFailure) ?? first ?? { failures: [], assertions: [] };
  return {
    ...base,
    status,
    runs,
    passes,
    score: scoreSum / runs,
    ...('output' in kept ? { output: kept.output } : {}),
    failures: status === 'passed' ? [] : kept.failures,
    assertions: kept.assertions,
    latencyMs,
    tokens,
    costUsd,
  };
}

/** Every case of a suite, in order; once the step's time is spent, the rest are reported skipped. */
export async function runSuiteCases(suite: Suite, options: SuiteRunOptions): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  for (const evalCase of suite.cases) {
    const outcome = await runCase(suite, evalCase, options);
    outcomes.push(
      outcome ?? {
        id: evalCase.id,
        status: 'skipped',
        runs: 0,
        passes: 0,
        score: 0,
        input: evalCase.input ?? evalCase.vars ?? null,
        ...(evalCase.expected !== undefined ? { expected: evalCase.expected } : {}),
        failures: ["skipped: the step's deadline was reached"],
        assertions: [],
        latencyMs: 0,
        tokens: 0,
        costUsd: 0,
      },
    );
  }
  return outcomes;
}
