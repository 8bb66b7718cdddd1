import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { isQfError } from '../../errors.js';
import { writeFileAtomic } from '../../evidence/output-folder.js';
import type { EvalCaseResult, EvalSuiteResult } from '../../evidence/schema.js';
import { RUN_EVALS_CONTRACT, type RunEvalsInput } from '../../policy/tool-contracts.js';
import type { ToolContext, ToolDefinition, ToolRun } from '../tool-definition.js';
import { findSuiteFiles } from './find-suite-files.js';
import { loadSuite, type LoadedSuite } from './load-suite.js';
import { runSandboxedTarget } from './run-target.js';
import type { CaseOutcome } from './run-suite.js';
import { aggregateEvalMetrics, caseResult, evalMetrics, notableCases, suiteResult } from './summarize-evals.js';

/** The step's full record, every case of every suite: reports/<step>/evals.json. */
export const EVALS_REPORT = 'evals.json';

/** Every suite file the globs match, read and checked; the first broken one stops the step with its problems. */
async function loadSuites(repoDir: string, globs: readonly string[]): Promise<LoadedSuite[] | string> {
  const files = await findSuiteFiles(repoDir, globs);
  if (files.length === 0) return `no eval suite file matches ${globs.join(', ')}`;
  const suites: LoadedSuite[] = [];
  for (const file of files) {
    try {
      suites.push(await loadSuite(repoDir, file));
    } catch (error) {
      if (isQfError(error, 'BAD_INPUT')) return error.message;
      throw error;
    }
  }
  const names = new Map<string, string>();
  for (const { suite, file } of suites) {
    const other = names.get(suite.name);
    if (other) return `eval suites ${other} and ${file} are both named "${suite.name}"; suite names must be unique (they name the metrics)`;
    names.set(suite.name, file);
  }
  return suites;
}

async function runEvals(input: RunEvalsInput, context: ToolContext): Promise<ToolRun> {
  const started = performance.now();
  const loaded = await loadSuites(context.repoDir, input.suites);
  if (typeof loaded === 'string') return { status: 'error', reason: loaded, metrics: {}, artifacts: [] };
  await mkdir(context.stepDir, { recursive: true });
  // Loaded when evals run: the assertions' JSON Schema and JSONPath libraries stay out of runs without them.
  const { runSuiteCases } = await import('./run-suite.js');
  const { judgeWithRubric, runLlmTarget } = await import('./llm-calls.js');
  const deadlineAt = started + context.timeoutMs;

  const suites: EvalSuiteResult[] = [];
  const cases: EvalCaseResult[] = [];
  const report: Array<{ name: string; file: string; digest: string; cases: CaseOutcome[] }> = [];
  let budgetSkipped = 0;
  for (const { suite, file, digest } of loaded) {
    const calls = { llm: context.llm, suite: suite.name, cache: suite.cache };
    const target = suite.target;
    const ran = await runSuiteCases(suite, {
      deadlineAt,
      budgetSpent: () => context.llm?.gateway.budgetSpent ?? false,
      judge: (assertion, output, evalCase, run) =>
        judgeWithRubric(assertion, output, evalCase, { ...calls, run, timeoutMs: (evalCase.timeout_seconds ?? suite.timeout_seconds) * 1000 }),
      runOnce: (evalCase, timeoutMs, run) =>
        'llm' in target
          ? runLlmTarget(target.llm, evalCase, { ...calls, run, timeoutMs })
          : runSandboxedTarget(target, evalCase, {
              sandbox: context.sandbox,
              repoDir: context.repoDir,
              outputDir: context.stepDir,
              env: context.env,
              timeoutMs,
              maxOutputBytes: context.maxOutputBytes,
              ...(context.signal ? { signal: context.signal } : {}),
            }),
    });
    budgetSkipped += ran.budgetSkipped;
    const results = ran.cases.map((outcome) => caseResult(suite.name, outcome));
    suites.push(suiteResult(suite.name, file, digest, results));
    cases.push(...results);
    report.push({ name: suite.name, file, digest, cases: ran.cases });
  }

  const reportPath = path.join(context.stepDir, EVALS_REPORT);
  await writeFileAtomic(reportPath, `${JSON.stringify({ suites: report }, null, 1)}\n`);
  const metrics = evalMetrics(suites, false);
  const run = { metrics, evals: { suites, ...notableCases(cases) }, artifacts: [reportPath] };
  if (budgetSkipped > 0) {
    const budgetSpent = `the run's budget.llm_tokens of ${context.llm?.gateway.tokenBudget ?? 0} is spent: ${budgetSkipped} eval cases that call a model were skipped`;
    return { ...run, status: 'passed', reason: `${budgetSpent}.`, budgetSpent };
  }
  const skipped = metrics['evals.skipped']!;
  if (skipped > 0) return { ...run, status: 'timed_out', reason: `the step's deadline was reached with ${skipped} of ${cases.length} eval cases not run.` };
  const notPassed = cases.length - metrics['evals.passed']!;
  const reason = `${metrics['evals.passed']} of ${cases.length} eval cases passed in ${suites.length} suite${suites.length === 1 ? '' : 's'}${notPassed > 0 ? `; ${notPassed} did not` : ''}.`;
  // Failed cases are results, not a failure of the step: the gate's rules over evals.* judge them.
  return { ...run, status: 'passed', reason };
}

export const runEvalsTool: ToolDefinition<RunEvalsInput> = {
  ...RUN_EVALS_CONTRACT,
  run: runEvals,
  aggregateMetrics: aggregateEvalMetrics,
};
