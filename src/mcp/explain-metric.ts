import { metricPatterns, RUN_METRICS } from '../policy/metric-catalog.js';
import { TOOL_CONTRACTS } from '../policy/tool-contracts.js';

/**
 * What each metric measures, in a sentence an agent can act on. Keyed by the catalog's patterns
 * (`<name>` is a policy-chosen segment). A pattern added to the catalog without a line here is
 * still explained by who publishes it.
 */
const MEANINGS: Readonly<Record<string, string>> = {
  'steps.total': 'Plan steps of the run, whatever their outcome.',
  'steps.failed': 'Steps whose tool ran and reported a failure (for run_pytest: a failed or erroring test).',
  'steps.errored': 'Steps whose tool could not produce a result (pytest missing, no JUnit report, a crash).',
  'steps.timed_out': "Steps killed at the sandbox's deadline (sandbox.timeout_seconds, or what was left of the budget).",
  'steps.refused': 'Steps qf refused to run: tool not in tools.allowlist, unknown, or its input outside its contract or the repository.',
  'steps.skipped': 'Steps not run because a fail-fast step failed before them or the budget was spent.',
  'budget.seconds_used': 'Seconds the steps took, counted against budget.total_seconds.',
  'budget.retries': 'Extra attempts made for steps that errored or timed out (budget.max_retries bounds them).',
  'governance.conflicts': 'PSMP conflicts found while collecting the run: the same result declared differently.',
  'governance.blocking_conflicts': 'Conflicts the governance mode does not let pass (strict: all; adaptive: those not low-risk; playground: none).',
  'governance.vetoes': 'LLM calls the SecureGateway vetoed in this run.',
  'pytest.total': 'Test cases in the JUnit report (every <testcase>, subtests not counted separately).',
  'pytest.passed': 'Tests that passed.',
  'pytest.failed': 'Tests that failed an assertion (setup and collection errors are pytest.errors).',
  'pytest.errors': 'Tests that errored in setup or teardown, and files that could not be collected.',
  'pytest.skipped': 'Tests skipped (pytest.skip, skipif).',
  'pytest.xfailed': 'Tests marked xfail that failed as expected.',
  'pytest.xpassed': 'Tests marked xfail that passed.',
  'pytest.pass_rate': '(passed + xpassed) / (passed + failed + errors + xpassed); 1 when nothing ran.',
  'pytest.duration_seconds': "Seconds pytest reported for the suite, summed over the run's pytest steps.",
  'command.<name>.exit_code': 'The exit code of the command named <name> under tools.commands.',
  'command.failed': 'Commands (run_command steps) that exited non-zero.',
  'evals.total': 'Eval cases of every suite run_evals ran (the head).',
  'evals.passed': 'Eval cases whose runs passed at least min_passes times.',
  'evals.failed': 'Eval cases that ran and did not pass: an assertion failed, or the target crashed, timed out or printed no JSON.',
  'evals.errors': 'Eval cases whose every run was an error of the target (crash, timeout, output that is not JSON, a provider that failed).',
  'evals.vetoed': 'Eval cases whose model call the SecureGateway vetoed.',
  'evals.skipped': "Eval cases not run: the step's deadline or the run's budget.llm_tokens was reached.",
  'evals.pass_rate': 'Passed eval cases / all eval cases (a case that did not run did not pass); 1 with no case.',
  'evals.pass_k': 'pass^k: the share of eval cases every one of whose repeat runs passed.',
  'evals.tokens': "Tokens of the eval targets' and judges' model answers (cached answers included).",
  'evals.cost_usd': "Cost of those answers from the providers' usd_per_million_tokens.",
  'evals.regressions': 'Eval cases that passed on the base commit and fail on the head.',
  'evals.fixed': 'Eval cases that failed on the base commit and pass on the head.',
  'evals.<name>.pass_rate': 'The pass rate of the eval suite named <name>.',
};

export interface MetricExplanation extends Record<string, unknown> {
  metric: string;
  known: boolean;
  /** The catalog pattern the name matched, e.g. `command.<name>.exit_code`. */
  pattern: string | null;
  meaning: string;
  /** `the run itself` or the tool that publishes it. */
  publishedBy: string | null;
}

function matches(pattern: string, metric: string): boolean {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<name>/g, '[a-z0-9][a-z0-9_-]*');
  return new RegExp(`^${escaped}$`).test(metric);
}

/** What a metric means and who publishes it; an unknown name is answered with the closest known ones. */
export function explainMetric(metric: string): MetricExplanation {
  const pattern = metricPatterns().find((candidate) => matches(candidate, metric)) ?? null;
  if (!pattern) {
    const prefix = metric.split('.')[0] ?? '';
    const near = metricPatterns().filter((candidate) => candidate.startsWith(`${prefix}.`));
    return {
      metric,
      known: false,
      pattern: null,
      meaning: `no tool publishes "${metric}", so a gate rule over it is refused; ${near.length ? `known ${prefix}.* metrics: ${near.join(', ')}` : `known metrics: ${metricPatterns().join(', ')}`}`,
      publishedBy: null,
    };
  }
  const tool = [...TOOL_CONTRACTS.values()].find((contract) => contract.metrics.includes(pattern));
  const publishedBy = (RUN_METRICS as readonly string[]).includes(pattern) ? 'the run itself' : tool ? `the ${tool.name} tool` : null;
  const meaning = MEANINGS[pattern] ?? (tool ? `Published by ${tool.name}: ${tool.description}` : 'Published by the run.');
  return { metric, known: true, pattern, meaning, publishedBy };
}
