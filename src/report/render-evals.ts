import type { EvalCaseResult, Evidence } from '../evidence/schema.js';
import { formatNumber } from '../util/format-number.js';
import { worstFirst } from '../tools/evals/summarize-evals.js';

/** Case rows in the summary; every case is in the evidence and evals.json. */
const MAX_CASE_ROWS = 25;
const MAX_CELL = 80;

function cell(text: string | undefined): string {
  if (text === undefined || text === '') return '—';
  const cut = text.length > MAX_CELL ? `${text.slice(0, MAX_CELL)}…` : text;
  return `\`${cut.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\n/g, ' ')}\``;
}

function plain(text: string): string {
  const cut = text.length > 160 ? `${text.slice(0, 160)}…` : text;
  return cut.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

const MARK: Record<EvalCaseResult['status'], string> = { passed: '✅', failed: '❌', error: '💥', vetoed: '⛔', skipped: '➖' };

function caseRow(entry: EvalCaseResult): string {
  const change = entry.comparison ? ` (${entry.comparison}${entry.baseStatus ? ` from ${entry.baseStatus}` : ''})` : '';
  return `| ${MARK[entry.status]} ${entry.status}${change} | \`${entry.suite}/${entry.id}\` | ${cell(entry.input)} | ${cell(entry.expected)} | ${cell(entry.baseOutput)} | ${cell(entry.output)} | ${plain(entry.failures[0] ?? '')} |`;
}

/**
 * The Evals section: one row per suite, then the cases worth a look with the worst regressions
 * first (input, expected, base output, head output, which assertion failed). Empty without evals.
 */
export function renderEvals(evidence: Evidence): string | undefined {
  const steps = evidence.steps.filter((step) => step.evals);
  if (steps.length === 0) return undefined;
  const suites = steps.flatMap((step) => step.evals!.suites);
  const cases = steps.flatMap((step) => step.evals!.cases).sort(worstFirst);
  const compared = suites.some((suite) => suite.regressions > 0 || suite.fixed > 0) || cases.some((entry) => entry.comparison);
  const suiteRows = suites.map(
    (suite) =>
      `| \`${suite.name}\` | ${suite.passed}/${suite.total} | ${formatNumber(suite.passRate)} | ${formatNumber(suite.passK)} | ${compared ? `${suite.regressions} / ${suite.fixed}` : '—'} | ${suite.failed + suite.errors} | ${suite.vetoed} | ${suite.skipped} | ${suite.tokens} |`,
  );
  const shown = cases.slice(0, MAX_CASE_ROWS);
  const more = cases.length - shown.length + steps.filter((step) => step.evals!.truncated).length;
  return [
    '### Evals',
    '',
    '| suite | passed | pass rate | pass^k | regressed / fixed | failed | vetoed | skipped | tokens |',
    '|---|---|---|---|---|---|---|---|---|',
    ...suiteRows,
    ...(shown.length > 0
      ? ['', '| status | case | input | expected | base output | head output | failed assertion |', '|---|---|---|---|---|---|---|', ...shown.map(caseRow)]
      : []),
    ...(more > 0 ? ['', `… and more cases in the evidence artifact (evals.json of each step).`] : []),
  ].join('\n');
}
