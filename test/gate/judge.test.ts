import { describe, expect, it } from 'vitest';
import { evaluateRule, judge, NO_STEP_APPLIED, type JudgeInput } from '../../src/gate/judge.js';
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

  it('fails, not blocks, when a fail-fast step fails, whether or not it skipped anything', () => {
    const alone = judge({
      ...base,
      metrics: { 'pytest.failed': 1 },
      steps: [{ id: 'unit', status: 'failed' }],
      shortCircuit: { reason: 'fail-fast step unit ended failed', atStep: 'unit', kind: 'fail_fast' },
    });
    expect(alone).toMatchObject({ verdict: 'fail', reasons: ['Step unit did not pass and is fail_fast.', 'Rule r failed: pytest.failed is 1, expected == 0'] });
    const skipping = judge({
      ...base,
      policy: { mode: 'strict', gate: [] },
      steps: [
        { id: 'lint', status: 'failed' },
        { id: 'unit', status: 'skipped' },
        { id: 'e2e', status: 'skipped' },
      ],
      shortCircuit: { reason: 'fail-fast step lint ended failed', atStep: 'lint', kind: 'fail_fast' },
    });
    expect(skipping).toMatchObject({
      verdict: 'fail',
      reasons: ['Step lint did not pass and is fail_fast: not run unit, e2e.', 'Step lint failed: no reason given'],
    });
  });

  it('blocks when the budget ran out (and when an older bundle does not say why steps were skipped)', () => {
    for (const kind of ['budget', undefined] as const) {
      const judgement = judge({
        ...base,
        steps: [
          { id: 'unit', status: 'passed' },
          { id: 'e2e', status: 'skipped' },
        ],
        shortCircuit: { reason: 'budget spent', atStep: 'e2e', ...(kind ? { kind } : {}) },
      });
      expect(judgement).toMatchObject({ verdict: 'blocked', reasons: ['Run stopped early: budget spent'] });
    }
  });

  it('says plainly why a change no step applied to passes, and fails it under require_steps', () => {
    const none = { ...base, metrics: {}, steps: [], policy: { mode: 'strict' as const, gate: [rule('==', 0), rule('==', 0), rule('==', 0)] } };
    expect(judge(none)).toMatchObject({ verdict: 'pass', reasons: [NO_STEP_APPLIED] });
    expect(NO_STEP_APPLIED).toBe(
      'No step applied to this change (no plan rule matched its changed files), so nothing ran and the gate passes: nothing it checks changed. Set `require_steps: true` in the policy to fail such a change instead.',
    );
    expect(judge({ ...none, policy: { ...none.policy, require_steps: true } })).toMatchObject({
      verdict: 'fail',
      reasons: ['No step applied to this change, and the policy requires one (require_steps: true): nothing was tested.'],
    });
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
