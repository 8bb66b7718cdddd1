import type { Evidence } from '../evidence/schema.js';
import { formatNumber } from '../util/format-number.js';
import { checkoutNote } from '../report/checkout-note.js';
import { outcomeLabel, outcomeMessage, testCountsLine } from '../report/test-outcome.js';

const VERDICT_WORD: Record<Evidence['gate']['verdict'], string> = {
  pass: 'PASS',
  fail: 'FAIL',
  needs_approval: 'WAITING FOR APPROVAL',
  blocked: 'BLOCKED',
};

const MAX_FAILED_TESTS = 20;

/** What a person reads in the terminal: verdict first, then failed rules, then failed tests. */
export function formatRunResult(evidence: Evidence, paths: { evidencePath: string; summaryPath: string }): string {
  const lines: string[] = [];
  const countsLine = testCountsLine(evidence.metrics);
  const counts = countsLine ? ` · ${countsLine}` : '';
  lines.push(`${VERDICT_WORD[evidence.gate.verdict]}${counts}`);
  if (evidence.shard) lines.push(`  Shard ${evidence.shard.index}/${evidence.shard.total}: the merge (qf merge) gives the verdict of the whole run.`);
  for (const step of evidence.steps)
    if (step.selection) lines.push(`  ${step.id}: ran ${step.selection.selected} of ${step.selection.collected} collected tests. ${step.selection.note}`);
  // Each failed rule is listed once, under "Failed rules", not also among the reasons.
  const failedRules = evidence.gate.rules.filter((rule) => rule.status === 'fail');
  const ruleReasons = new Set(failedRules.map((rule) => `Rule ${rule.id} failed: ${rule.reason}`));
  for (const reason of evidence.gate.reasons) if (!ruleReasons.has(reason)) lines.push(`  ${reason.split('\n')[0]}`);
  const checkout = checkoutNote(evidence.change);
  if (checkout) lines.push(`  ${checkout}`);

  if (failedRules.length > 0) {
    lines.push('', 'Failed rules:');
    for (const rule of failedRules) {
      const observed = rule.observed === null ? 'not measured' : formatNumber(rule.observed);
      lines.push(`  ✗ ${rule.id}: ${rule.metric} is ${observed}, expected ${rule.op} ${formatNumber(rule.expected)}`);
    }
  }

  const failures = evidence.steps.flatMap((step) => step.tests?.notable ?? []);
  if (failures.length > 0) {
    lines.push('', 'Failed tests:');
    for (const test of failures.slice(0, MAX_FAILED_TESTS)) {
      const where = test.file ? `${test.file}${test.line ? `:${test.line}` : ''}` : test.id;
      const text = outcomeMessage(test);
      const message = text ? ` ${text.split('\n')[0]!.slice(0, 200)}` : '';
      lines.push(`  ${where}: ${outcomeLabel(test)} ${test.id}${message ? ' —' + message : ''}`);
    }
    if (failures.length > MAX_FAILED_TESTS) lines.push(`  … and ${failures.length - MAX_FAILED_TESTS} more (see ${paths.summaryPath})`);
  }

  if (evidence.gate.verdict === 'needs_approval') {
    lines.push(
      '',
      `Plan ${evidence.plan.planHash}`,
      `Approve it with: qf run … --approve   (or --approvals FILE listing {"by": "…", "planHash": "${evidence.plan.planHash}"})`,
    );
  }
  lines.push('', `Evidence: ${paths.evidencePath}`, `Summary:  ${paths.summaryPath}`);
  return `${lines.join('\n')}\n`;
}
