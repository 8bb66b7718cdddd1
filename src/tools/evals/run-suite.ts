import type { EvalCaseStatus } from '../../evidence/schema.js';
import { checkAssertion, runScore, type AssertionResult } from './check-assertion.js';
import type { RubricVerdict } from './llm-calls.js';
import type { TargetOutcome } from './run-target.js';
import type { Assertion, EvalCase, Suite } from './suite-schema.js';

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
  /** Tokens of the target's and the judges' answers. */
  tokens: number;
  costUsd: number;
}

/** Runs a target once for a case (run is 1-based); the suite runner decides how often and with what deadline. */
export type RunOnce = (evalCase: EvalCase, timeoutMs: number, run: number) => Promise<TargetOutcome>;

/** Scores an output with an llm-rubric assertion (through the gateway). */
export type Judge = (assertion: Extract<Assertion, { type: 'llm-rubric' }>, output: unknown, evalCase: EvalCase, run: number) => Promise<RubricVerdict>;

export interface SuiteRunOptions {
  runOnce: RunOnce;
  judge: Judge;
  /** performance.now() by which the step must end; when reached, the remaining cases are skipped. */
  deadlineAt: number;
  /** Whether the run's LLM token budget is spent; cases that call a model are then skipped. */
  budgetSpent: () => boolean;
  now?: () => number;
}

/** Whether a case calls a model: an llm target, or an llm-rubric judge. */
export function usesModel(suite: Suite, evalCase: EvalCase): boolean {
  return 'llm' in suite.target || [...suite.assert, ...evalCase.assert].some((assertion) => assertion.type === 'llm-rubric');
}

function stopped(evalCase: EvalCase, status: 'vetoed' | 'skipped', why: string, spent = { runs: 0, latencyMs: 0, tokens: 0, costUsd: 0 }): CaseOutcome {
  return {
    id: evalCase.id,
    status,
    passes: 0,
    score: 0,
    input: evalCase.input ?? evalCase.vars ?? null,
    ...(evalCase.expected !== undefined ? { expected: evalCase.expected } : {}),
    failures: [why],
    assertions: [],
    ...spent,
  };
}

/** The runs of one case: passes once `min_passes` of `repeat` runs reached the case threshold. A veto or a spent budget stops it. */
async function runCase(suite: Suite, evalCase: EvalCase, options: SuiteRunOptions): Promise<CaseOutcome> {
  const now = options.now ?? (() => performance.now());
  const repeat = evalCase.repeat ?? suite.repeat;
  const minPasses = Math.min(repeat, evalCase.min_passes ?? suite.min_passes ?? repeat);
  const threshold = evalCase.threshold ?? suite.threshold;
  const assertions = [...suite.assert, ...evalCase.assert];
  let passes = 0;
  let errors = 0;
  let scoreSum = 0;
  const spent = { runs: 0, latencyMs: 0, tokens: 0, costUsd: 0 };
  let first: { output?: unknown; failures: string[]; assertions: AssertionResult[] } | undefined;
  let firstFailure: typeof first;
  // Every run is made, even once the case has passed: pass^k needs all k of them.
  for (let run = 1; run <= repeat; run++) {
    const left = options.deadlineAt - now();
    if (left <= 0) break;
    const outcome = await options.runOnce(evalCase, Math.max(1, Math.min((evalCase.timeout_seconds ?? suite.timeout_seconds) * 1000, left)), run);
    spent.runs = run;
    spent.latencyMs += outcome.latencyMs;
    spent.tokens += outcome.tokens;
    spent.costUsd += outcome.costUsd;
    if (!outcome.ok) {
      if (outcome.stop === 'vetoed') return stopped(evalCase, 'vetoed', outcome.error, spent);
      if (outcome.stop === 'budget') return stopped(evalCase, 'skipped', `skipped: ${outcome.error}`, spent);
      errors++;
      firstFailure ??= { failures: [outcome.error], assertions: [] };
      continue;
    }
    const results: AssertionResult[] = [];
    for (const assertion of assertions) {
      if (assertion.type !== 'llm-rubric') {
        results.push(checkAssertion(assertion, outcome.output, evalCase.expected, outcome));
        continue;
      }
      const verdict = await options.judge(assertion, outcome.output, evalCase, run);
      spent.tokens += verdict.tokens;
      spent.costUsd += verdict.costUsd;
      if ('stop' in verdict)
        return stopped(
          evalCase,
          verdict.stop === 'vetoed' ? 'vetoed' : 'skipped',
          verdict.stop === 'vetoed' ? verdict.error : `skipped: ${verdict.error}`,
          spent,
        );
      results.push(verdict.result);
    }
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
  if (spent.runs === 0) return stopped(evalCase, 'skipped', "skipped: the step's deadline was reached");
  const status: EvalCaseStatus = passes >= minPasses ? 'passed' : errors === spent.runs ? 'error' : 'failed';
  const kept = (status === 'passed' ? first : firstFailure) ?? first ?? { failures: [], assertions: [] };
  return {
    id: evalCase.id,
    input: evalCase.input ?? evalCase.vars ?? null,
    ...(evalCase.expected !== undefined ? { expected: evalCase.expected } : {}),
    status,
    passes,
    score: scoreSum / spent.runs,
    ...('output' in kept ? { output: kept.output } : {}),
    failures: status === 'passed' ? [] : kept.failures,
    assertions: kept.assertions,
    ...spent,
  };
}

/**
 * Every case of a suite, in order. Once the step's time is spent the remaining cases are skipped;
 * once the run's token budget is spent, so are the remaining cases that would call a model.
 */
export async function runSuiteCases(suite: Suite, options: SuiteRunOptions): Promise<{ cases: CaseOutcome[]; budgetSkipped: number }> {
  const cases: CaseOutcome[] = [];
  let budgetSkipped = 0;
  for (const evalCase of suite.cases) {
    if (usesModel(suite, evalCase) && options.budgetSpent()) {
      cases.push(stopped(evalCase, 'skipped', "skipped: the run's budget.llm_tokens is spent"));
      budgetSkipped++;
      continue;
    }
    const outcome = await runCase(suite, evalCase, options);
    if (outcome.status === 'skipped' && outcome.failures[0]?.includes('budget.llm_tokens')) budgetSkipped++;
    cases.push(outcome);
  }
  return { cases, budgetSkipped };
}
