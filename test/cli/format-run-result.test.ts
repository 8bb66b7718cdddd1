import { describe, expect, it } from 'vitest';
import { formatRunResult } from '../../src/cli/format-run-result.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { evaluateRule, judge } from '../../src/gate/judge.js';

describe('formatRunResult', () => {
  it('prints each failed rule once, with the same number formatting as the rule reasons', () => {
    const metrics = { 'pytest.pass_rate': 1 / 3, 'pytest.failed': 2 };
    const gate = [
      { id: 'pass-rate', metric: 'pytest.pass_rate', op: '>=' as const, value: 0.95, if_missing: 'skip' as const },
      { id: 'no-failures', metric: 'pytest.failed', op: '==' as const, value: 0, if_missing: 'skip' as const },
    ];
    const judgement = judge({
      policy: { mode: 'strict', gate },
      metrics,
      steps: [{ id: 'unit', status: 'failed' }],
      approvalWaiting: false,
      shortCircuit: null,
    });
    expect(evaluateRule(gate[0]!, metrics).reason).toBe('pytest.pass_rate is 0.3333, expected >= 0.95');
    // Only the parts formatRunResult reads.
    const evidence = { gate: judgement, metrics, steps: [], plan: { planHash: '0'.repeat(64), steps: [] } } as unknown as Evidence;
    const text = formatRunResult(evidence, { evidencePath: 'out/evidence.json', summaryPath: 'out/summary.md' });
    expect(text).toBe(
      [
        'FAIL',
        '',
        'Failed rules:',
        '  ✗ pass-rate: pytest.pass_rate is 0.3333, expected >= 0.95',
        '  ✗ no-failures: pytest.failed is 2, expected == 0',
        '',
        'Evidence: out/evidence.json',
        'Summary:  out/summary.md',
        '',
      ].join('\n'),
    );
    expect(text).not.toContain('0.3333333');
  });
});
