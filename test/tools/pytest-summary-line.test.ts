import { describe, expect, it } from 'vitest';
import { parsePytestSummaryLine } from '../../src/tools/pytest-summary-line.js';
import { pytestMetrics } from '../../src/tools/run-pytest.js';

describe('parsePytestSummaryLine', () => {
  it.each<[string, Partial<Record<string, number>> | undefined]>([
    [
      'collected 3 items\n\n==== 4 failed, 4 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error in 0.58s ====\n',
      { failed: 4, passed: 4, skipped: 1, xfailed: 1, xpassed: 1, errors: 1 },
    ],
    ['5 passed, 2 warnings in 1.02s\n', { passed: 5, warning: 2 }],
    ['!!! Interrupted: 1 error during collection !!!\n==== 2 errors in 0.3s ====\n', { errors: 2 }],
    ['no tests ran in 0.01s\n', undefined],
    ['', undefined],
  ])('%j', (stdout, expected) => {
    expect(parsePytestSummaryLine(stdout)).toEqual(expected);
  });
});

describe('pytestMetrics', () => {
  it('computes the pass rate over tests that ran', () => {
    expect(pytestMetrics({ total: 10, passed: 6, failed: 1, errors: 1, skipped: 1, xfailed: 0, xpassed: 1 }, 1.23456)).toEqual({
      'pytest.total': 10,
      'pytest.passed': 6,
      'pytest.failed': 1,
      'pytest.errors': 1,
      'pytest.skipped': 1,
      'pytest.xfailed': 0,
      'pytest.xpassed': 1,
      'pytest.pass_rate': 7 / 9,
      'pytest.duration_seconds': 1.235,
    });
  });

  it('gives a suite that ran nothing a pass rate of 1', () => {
    expect(pytestMetrics({ total: 2, passed: 0, failed: 0, errors: 0, skipped: 2, xfailed: 0, xpassed: 0 }, 0)['pytest.pass_rate']).toBe(1);
  });
});
