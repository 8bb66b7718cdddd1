import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { isQfError } from '../../errors.js';
import { writeFileAtomic } from '../../evidence/output-folder.js';
import type { EvalCaseResult, EvalSuiteResult } from '../../evidence/schema.js';
import { RUN_EVALS_CONTRACT, type RunEvalsInput } from '../../policy/tool-contracts.js';
import { digestOf } from '../../util/canonical-json.js';
import type { ToolContext, ToolDefinition, ToolRun } from '../tool-definition.js';
import { BaseResultCache } from './base-result-cache.js';
import { addBaseWorktree } from './base-worktree.js';
import { compareResults } from './compare-results.js';
import { findSuiteFiles } from './find-suite-files.js';
import { loadSuite, type LoadedSuite } from './load-suite.js';
import type { CaseOutcome } from './run-suite.js';
import { runSandboxedTarget } from './run-target.js';
import { aggregateEvalMetrics, caseResult, evalMetrics, notableCases, suiteResult } from './summarize-evals.js';

/** The step's full record, every case of every suite: reports/<step>/evals.json. */
export const EVALS_REPORT = 'evals.json';

/** Every suite file the globs match, read and checked; the first broken one gives its problems instead. */
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

interface SuiteRun {
  loaded: LoadedSuite;
  cases: CaseOutcome[];
  budgetSkipped: number;
}

/** Runs suites with their targets in `repoDir` (the head's checkout or the base's worktree), within the step's deadline. */
async function runSuites(suites: readonly LoadedSuite[], repoDir: string, outputDir: string, context: ToolContext, deadlineAt: number): Promise<SuiteRun[]> {
  // Loaded when evals run: the assertions' JSON Schema and JSONPath libraries stay out of runs without them.
  const { runSuiteCases } = await import('./run-suite.js');
  const { judgeWithRubric, runLlmTarget } = await import('./llm-calls.js');
  const runs: SuiteRun[] = [];
  for (const loaded of suites) {
    const { suite } = loaded;
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
              repoDir,
              outputDir,
              env: context.env,
              timeoutMs,
              maxOutputBytes: context.maxOutputBytes,
              ...(context.signal ? { signal: context.signal } : {}),
            }),
    });
    runs.push({ loaded, ...ran });
  }
  return runs;
}

interface BaseRun {
  sha: string;
  results: EvalCaseResult[];
  /** Suite files whose base version could not be read: their head suites are not compared. */
  unreadable: Set<string>;
  fromCache: number;
  budgetSkipped: number;
  notes: string[];
}

/**
 * The base commit's suites, run on a clean worktree of it in the same sandbox, or taken from the
 * cache by (base SHA, suite digest, target digest). Returns why not when the base cannot be checked out.
 */
async function runBase(input: RunEvalsInput, context: ToolContext, baseRef: string, deadlineAt: number): Promise<BaseRun | string> {
  const worktree = await addBaseWorktree(context.repoDir, baseRef);
  if (typeof worktree === 'string') return worktree;
  const cache = new BaseResultCache(context.cacheDir);
  const base: BaseRun = { sha: worktree.sha, results: [], unreadable: new Set(), fromCache: 0, budgetSkipped: 0, notes: [] };
  try {
    const suites: LoadedSuite[] = [];
    for (const file of await findSuiteFiles(worktree.dir, input.suites)) {
      try {
        suites.push(await loadSuite(worktree.dir, file));
      } catch (error) {
        if (!isQfError(error, 'BAD_INPUT')) throw error;
        base.unreadable.add(file);
        base.notes.push(`the base's ${file} could not be read, so its cases are not compared: ${error.message.split('\n')[1] ?? error.message}`);
      }
    }
    // What else decides a result besides the commit and the suite file: where it runs and which models answer.
    const targetDigest = (loaded: LoadedSuite) =>
      digestOf({
        target: loaded.suite.target,
        sandbox: context.sandbox.mode,
        providers: 'llm' in loaded.suite.target ? (context.llm?.gateway.providers ?? []) : [],
      });
    const toRun: LoadedSuite[] = [];
    for (const loaded of suites) {
      const cached = await cache.get(BaseResultCache.key(worktree.sha, loaded.digest, targetDigest(loaded)));
      if (cached) {
        base.results.push(...cached);
        base.fromCache++;
      } else toRun.push(loaded);
    }
    const outputDir = path.join(context.stepDir, 'base');
    await mkdir(outputDir, { recursive: true });
    for (const ran of await runSuites(toRun, worktree.dir, outputDir, context, deadlineAt)) {
      const results = ran.cases.map((outcome) => caseResult(ran.loaded.suite.name, outcome));
      base.results.push(...results);
      base.budgetSkipped += ran.budgetSkipped;
      // Only a complete result is kept: a case skipped (deadline, budget) would stay skipped.
      if (results.every((entry) => entry.status !== 'skipped'))
        await cache.set(BaseResultCache.key(worktree.sha, ran.loaded.digest, targetDigest(ran.loaded)), results);
    }
    return base;
  } finally {
    await worktree.remove();
  }
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

async function runEvals(input: RunEvalsInput, context: ToolContext): Promise<ToolRun> {
  const started = performance.now();
  const loaded = await loadSuites(context.repoDir, input.suites);
  if (typeof loaded === 'string') return { status: 'error', reason: loaded, metrics: {}, artifacts: [] };
  await mkdir(context.stepDir, { recursive: true });
  const deadlineAt = started + context.timeoutMs;

  const head = await runSuites(loaded, context.repoDir, context.stepDir, context, deadlineAt);
  let results = head.flatMap((ran) => ran.cases.map((outcome) => caseResult(ran.loaded.suite.name, outcome)));
  const base = input.base && context.baseRef !== undefined ? await runBase(input, context, context.baseRef, deadlineAt) : undefined;
  let removed: EvalCaseResult[] = [];
  if (base !== undefined && typeof base !== 'string') {
    const uncompared = new Set(head.filter((ran) => base.unreadable.has(ran.loaded.file)).map((ran) => ran.loaded.suite.name));
    const compared = compareResults(results, base.results, uncompared);
    results = compared.head;
    removed = compared.removed;
  }

  const suites: EvalSuiteResult[] = head.map((ran) =>
    suiteResult(
      ran.loaded.suite.name,
      ran.loaded.file,
      ran.loaded.digest,
      results.filter((entry) => entry.suite === ran.loaded.suite.name),
    ),
  );
  const reportPath = path.join(context.stepDir, EVALS_REPORT);
  const report = {
    suites: head.map((ran) => ({ name: ran.loaded.suite.name, file: ran.loaded.file, digest: ran.loaded.digest, cases: ran.cases })),
    ...(base !== undefined
      ? { base: typeof base === 'string' ? { skipped: base } : { sha: base.sha, fromCache: base.fromCache, cases: base.results, notes: base.notes } }
      : {}),
  };
  await writeFileAtomic(reportPath, `${JSON.stringify(report, null, 1)}\n`);
  const metrics = evalMetrics(suites, base !== undefined && typeof base !== 'string');
  const run = { metrics, evals: { suites, ...notableCases([...results, ...removed]) }, artifacts: [reportPath] };

  const total = results.length;
  const passed = metrics['evals.passed']!;
  const comparison =
    base === undefined
      ? ''
      : typeof base === 'string'
        ? ` Not compared with the base: ${base}.`
        : ` Against the base ${base.sha.slice(0, 12)}${base.fromCache > 0 ? ` (${plural(base.fromCache, 'suite')} from the cache)` : ''}: ${metrics['evals.regressions']} regressed, ${metrics['evals.fixed']} fixed, ${plural(removed.length, 'case')} removed.${base.notes.map((note) => ` Note: ${note}.`).join('')}`;
  const budgetSkipped = head.reduce((sum, ran) => sum + ran.budgetSkipped, 0) + (typeof base === 'object' ? base.budgetSkipped : 0);
  if (budgetSkipped > 0) {
    const budgetSpent = `the run's budget.llm_tokens of ${context.llm?.gateway.tokenBudget ?? 0} is spent: ${plural(budgetSkipped, 'eval case')} that call a model were skipped`;
    return { ...run, status: 'passed', reason: `${budgetSpent}.${comparison}`, budgetSpent };
  }
  const skipped = metrics['evals.skipped']!;
  if (skipped > 0)
    return { ...run, status: 'timed_out', reason: `the step's deadline was reached with ${skipped} of ${total} eval cases not run.${comparison}` };
  const reason = `${passed} of ${total} eval cases passed in ${plural(suites.length, 'suite')}${total - passed > 0 ? `; ${total - passed} did not` : ''}.${comparison}`;
  // Failed cases are results, not a failure of the step: the gate's rules over evals.* judge them.
  return { ...run, status: 'passed', reason };
}

export const runEvalsTool: ToolDefinition<RunEvalsInput> = {
  ...RUN_EVALS_CONTRACT,
  run: runEvals,
  aggregateMetrics: aggregateEvalMetrics,
};
