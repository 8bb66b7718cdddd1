import type { EvalCaseResult } from '../evidence/schema.js';
import { compareResults } from '../tools/evals/compare-results.js';
import { parseSuite } from '../tools/evals/load-suite.js';
import { runSuiteCases } from '../tools/evals/run-suite.js';
import { caseResult, evalMetrics, suiteResult } from '../tools/evals/summarize-evals.js';
import type { GoldenEvals } from './golden-case.js';

/**
 * A golden case's eval suite scored against recorded outputs, without running a target or a
 * model: each case's output (and base output), its measurements and its judge's score are in the
 * case. Gives the evals.* metrics the real step would have published, with the same code.
 */
export async function scoreGoldenEvals(spec: GoldenEvals, name: string): Promise<{ metrics: Record<string, number>; cases: EvalCaseResult[] }> {
  const suite = parseSuite(spec.suite, `golden:${name}`);
  const score = async (outputs: Record<string, unknown>) => {
    const ran = await runSuiteCases(
      { ...suite, cases: suite.cases.filter((entry) => entry.id in outputs) },
      {
        deadlineAt: Number.POSITIVE_INFINITY,
        budgetSpent: () => false,
        runOnce: async (evalCase) => {
          const measured = spec.measurements[evalCase.id] ?? {};
          return { ok: true, output: outputs[evalCase.id], latencyMs: measured.latency_ms ?? 0, tokens: measured.tokens ?? 0, costUsd: measured.cost_usd ?? 0 };
        },
        judge: async (assertion, _output, evalCase) => {
          const judged = spec.judgements[evalCase.id] ?? 0;
          const passed = judged >= assertion.threshold;
          return { result: { type: 'llm-rubric', weight: assertion.weight, score: judged, passed, message: `judge scored ${judged}` }, tokens: 0, costUsd: 0 };
        },
      },
    );
    return ran.cases.map((outcome) => caseResult(suite.name, outcome));
  };
  let cases = await score(spec.outputs);
  if (spec.base_outputs) cases = compareResults(cases, await score(spec.base_outputs), new Set()).head;
  const summary = suiteResult(suite.name, `golden:${name}`, '0'.repeat(64), cases);
  return { metrics: evalMetrics([summary], spec.base_outputs !== undefined), cases };
}
