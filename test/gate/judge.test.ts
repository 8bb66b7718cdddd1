import { describe, expect, it } from 'vitest';
import { evaluateRule, judge, type JudgeInput } from '../../src/gate/judge.js';
import { isKnownMetric, metricPatterns } from '../../src/policy/metric-catalog.js';
import type { GateOp } from '../../src/policy/schema.js';

const rule = (op: GateOp, value: number, ifMissing: 'skip' | 'fail' = 'skip') => ({ id: 'r', metric: 'pytest.failed', op, value, if_missing: ifMissing });

describe('evaluateRule', () => {
  it.each<[GateOp, number, number, 'pass' | 'fail']>([
    ['==', 0, 0, 'pass'],
    ['==', 1, 0, 'fail'],
    ['!=', 1, 0, 'pass'],
    ['!=', 0, 0, 'fail'],
    ['<', 0, 1, 'pass'],
    ['<', 1, 1, 'fail'],
    ['<=', 1, 1, 'pass'],
    ['<=', 2, 1, 'fail'],
    ['>', 2, 1, 'pass'],
    ['>', 1, 1, 'fail'],
    ['>=', 1, 1, 'pass'],
    ['>=', 0, 1, 'fail'],
  ])('%s: observed %d vs %d → %s', (op, observed, value, status) => {
    expect(evaluateRule(rule(op, value), { 'pytest.failed': observed })).toEqual({
      id: 'r',
      metric: 'pytest.failed',
      op,
      expected: value,
      observed,
      status,
      reason: `pytest.failed is ${observed}, expected ${op} ${value}`,
    });
  });

  it('skips or fails an unmeasured metric as the rule says', () => {
    expect(evaluateRule(rule('==', 0), {})).toMatchObject({
      observed: null,
      status: 'skipped',
      reason: 'pytest.failed was not measured by any step (if_missing: skip)',
    });
    expect(evaluateRule(rule('==', 0, 'fail'), {})).toMatchObject({
      observed: null,
      status: 'fail',
      reason: 'pytest.failed was not measured by any step (if_missing: fail)',
    });
  });

  it('rounds fractions in reasons to four places', () => {
    expect(evaluateRule({ id: 'r', metric: 'pytest.pass_rate', op: '>=', value: 0.95, if_missing: 'skip' }, { 'pytest.pass_rate': 2 / 3 }).reason).toBe(
      'pytest.pass_rate is 0.6667, expected >= 0.95',
    );
  });
});

describe('judge', () => {
  const base: JudgeInput = {
    policy: { mode: 'strict', gate: [rule('==', 0)] },
    metrics: { 'pytest.failed': 0 },
    steps: [{ id: 'unit', status: 'passed' }],
    approvalWaiting: false,
    shortCircuit: null,
  };

  it('passes when every rule holds', () => {
    expect(judge(base)).toEqual({ verdict: 'pass', rules: [evaluateRule(rule('==', 0), { 'pytest.failed': 0 })], reasons: ['All 1 gate rules hold.'] });
  });

  it('waits for approval before judging anything', () => {
    expect(judge({ ...base, metrics: { 'pytest.failed': 9 }, approvalWaiting: true })).toEqual({
      verdict: 'needs_approval',
      rules: [],
      reasons: ['The plan needs a human approval before it runs.'],
    });
  });

  it('blocks on governance findings, then lists failed rules too', () => {
    const judgement = judge({ ...base, metrics: { 'pytest.failed': 2 }, blockingFindings: ['Veto by security: secrets in diff'] });
    expect(judgement.verdict).toBe('blocked');
    expect(judgement.reasons).toEqual(['Veto by security: secrets in diff', 'Rule r failed: pytest.failed is 2, expected == 0']);
  });

  it('fails when a step did not finish even though every rule held', () => {
    const judgement = judge({
      ...base,
      steps: [
        { id: 'unit', status: 'passed' },
        { id: 'slow', status: 'timed_out', reason: 'killed' },
        { id: 'x', status: 'error' },
      ],
    });
    expect(judgement.verdict).toBe('fail');
    expect(judgement.reasons).toEqual(['Step slow did not finish (timed_out): killed', 'Step x did not finish (error): no reason given']);
  });

  it('in playground mode reports the would-be verdict first and passes', () => {
    const judgement = judge({ ...base, policy: { mode: 'playground', gate: [rule('==', 0)] }, shortCircuit: { reason: 'budget spent', atStep: 'unit' } });
    expect(judgement.verdict).toBe('pass');
    expect(judgement.reasons).toEqual(['Playground mode: the verdict would have been blocked; reported, not enforced.', 'Run stopped early: budget spent']);
  });
});

describe('metric catalog', () => {
  it.each([
    'pytest.failed',
    'pytest.pass_rate',
    'steps.timed_out',
    'budget.seconds_used',
    'command.lint.exit_code',
    'command.type-check.exit_code',
    'command.failed',
  ])('knows %s', (metric) => {
    expect(isKnownMetric(metric)).toBe(true);
  });

  it.each(['pytest.fails', 'command.Lint.exit_code', 'command..exit_code', 'coverage.percent', ''])('does not know %j', (metric) => {
    expect(isKnownMetric(metric)).toBe(false);
  });

  it("lists the run metrics before the tools' metrics", () => {
    expect(metricPatterns().slice(0, 3)).toEqual(['steps.total', 'steps.failed', 'steps.errored']);
  });
});
