import { describe, expect, it } from 'vitest';
import { acceptApprovals } from '../../src/orchestrator/accept-approvals.js';
import { collectMetrics } from '../../src/orchestrator/collect-metrics.js';
import { PolicySchema } from '../../src/policy/schema.js';
import type { StepResult } from '../../src/evidence/schema.js';

const PLAN = 'a'.repeat(64);
const OLD = 'b'.repeat(64);
const approval = (by: string, planHash = PLAN, headSha?: string) => ({
  by,
  at: '2026-01-01T00:00:00.000Z',
  planHash,
  source: 'file',
  ...(headSha ? { headSha } : {}),
});

describe('acceptApprovals', () => {
  it('keeps approvals of this plan on this head by distinct non-authors, and says why others do not count', () => {
    const policy = PolicySchema.parse({ version: 1 });
    const result = acceptApprovals(
      {
        approvals: [
          approval('alice'),
          approval('bob', OLD),
          approval('carol', PLAN, 'f00d000'),
          approval('dave'),
          approval('ALICE'),
          approval('erin', PLAN, 'cafe1234'),
        ],
        rejected: [],
        notes: ['from the source'],
      },
      { planHash: PLAN, headSha: 'cafe1234', author: 'dave', policy },
    );
    expect(result.accepted.map((accepted) => accepted.by)).toEqual(['alice', 'erin']);
    expect(result.notes).toEqual([
      'from the source',
      `Approval by bob is for plan ${OLD.slice(0, 12)}, not the current plan ${PLAN.slice(0, 12)}.`,
      'Approval by carol is for commit f00d000, not the head cafe123.',
      'Approval by dave does not count: authors may not approve their own change (approval.allow_author is false).',
      'Approval by ALICE counted once.',
    ]);
  });

  it('lets the author approve when the policy allows it', () => {
    const policy = PolicySchema.parse({ version: 1, approval: { allow_author: true } });
    expect(
      acceptApprovals({ approvals: [approval('dave')], rejected: [], notes: [] }, { planHash: PLAN, headSha: null, author: 'dave', policy }).accepted,
    ).toHaveLength(1);
  });
});

describe('collectMetrics', () => {
  const pytestStep = (id: string, counts: Partial<Record<string, number>>, seconds: number): StepResult => {
    const full = { total: 0, passed: 0, failed: 0, errors: 0, skipped: 0, xfailed: 0, xpassed: 0, ...counts };
    return {
      id,
      tool: 'run_pytest',
      status: full.failed ? 'failed' : 'passed',
      attempts: 1,
      durationMs: 10,
      metrics: { 'pytest.duration_seconds': seconds },
      tests: { counts: full, notable: [], truncated: false },
      artifacts: [],
    };
  };

  it('sums pytest counts over steps, recomputes the pass rate, merges commands and adds run metrics', () => {
    const lint: StepResult = {
      id: 'lint',
      tool: 'run_command',
      status: 'failed',
      attempts: 1,
      durationMs: 5,
      metrics: { 'command.lint.exit_code': 1, 'command.failed': 1 },
      artifacts: [],
    };
    const skipped: StepResult = { id: 'late', tool: 'run_pytest', status: 'skipped', attempts: 0, durationMs: 0, metrics: {}, artifacts: [] };
    expect(
      collectMetrics([pytestStep('a', { total: 4, passed: 3, failed: 1 }, 1.5), pytestStep('b', { total: 5, passed: 4, skipped: 1 }, 2), lint, skipped], {
        usedMs: 3_456.7,
        retries: 2,
      }),
    ).toEqual({
      'pytest.total': 9,
      'pytest.passed': 7,
      'pytest.failed': 1,
      'pytest.errors': 0,
      'pytest.skipped': 1,
      'pytest.xfailed': 0,
      'pytest.xpassed': 0,
      'pytest.pass_rate': 0.875,
      'pytest.duration_seconds': 3.5,
      'command.lint.exit_code': 1,
      'command.failed': 1,
      'steps.total': 4,
      'steps.failed': 2,
      'steps.errored': 0,
      'steps.timed_out': 0,
      'steps.refused': 0,
      'steps.skipped': 1,
      'budget.seconds_used': 3.457,
      'budget.retries': 2,
    });
  });

  it('publishes no pytest metric when no pytest step ran', () => {
    expect(Object.keys(collectMetrics([], { usedMs: 0, retries: 0 })).filter((name) => name.startsWith('pytest.'))).toEqual([]);
  });
});
