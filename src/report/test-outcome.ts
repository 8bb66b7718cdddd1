import type { TestCase } from '../evidence/schema.js';

/** pytest's own word for a strict XPASS, which the evidence records as outcome `xpassed`. */
const STRICT_XPASS = 'XPASS(strict)';

/**
 * How a listed test's outcome is shown. Only a strict XPASS is listed as `xpassed` (a non-strict
 * one is a pass), and it is counted as failed: say so in pytest's words.
 */
export function outcomeLabel(test: Pick<TestCase, 'outcome'>): string {
  return test.outcome === 'xpassed' ? STRICT_XPASS : test.outcome;
}

/** The test's message, and for a strict XPASS why it fails although it passed. */
export function outcomeMessage(test: Pick<TestCase, 'outcome' | 'message'>): string | undefined {
  if (test.outcome !== 'xpassed') return test.message;
  const reason = test.message?.replace(/^\[XPASS\(strict\)\]\s*/, '').trim();
  return `marked xfail(strict=True) but passed, and a strict xfail fails when it passes${reason ? ` (xfail reason: ${reason})` : ''}`;
}

/** `12 passed, 1 failed, 0 errors, 1 skipped, 2 deselected; subtests: 7 passed, 1 failed`, from a run's metrics. */
export function testCountsLine(metrics: Record<string, number>): string | undefined {
  if (metrics['pytest.total'] === undefined) return undefined;
  const counts = [
    `${metrics['pytest.passed']} passed`,
    `${metrics['pytest.failed']} failed`,
    `${metrics['pytest.errors']} errors`,
    `${metrics['pytest.skipped']} skipped`,
  ];
  for (const name of ['xfailed', 'xpassed', 'deselected']) {
    const value = metrics[`pytest.${name}`];
    if (value) counts.push(`${value} ${name}`);
  }
  const subPassed = metrics['pytest.subtests_passed'] ?? 0;
  const subFailed = metrics['pytest.subtests_failed'] ?? 0;
  const subtests = subPassed + subFailed > 0 ? `; subtests: ${subPassed} passed, ${subFailed} failed` : '';
  return counts.join(', ') + subtests;
}
