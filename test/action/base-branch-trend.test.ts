import { describe, expect, it } from 'vitest';
import { baseBranchTrend, renderTrend, withTrend } from '../../src/action/base-branch-trend.js';
import { PlatformLimit } from '../../src/github/limits.js';

describe('the base branch trend as Mermaid', () => {
  it('keeps text that would end a Mermaid string out of it, and draws a run without a figure at 0', () => {
    const text = renderTrend('rel"ease]', [
      { label: '7.1', verdict: 'pass', passRatePercent: 100, durationSeconds: 12.5 },
      { label: '8"].2', verdict: 'rejected', passRatePercent: null, durationSeconds: null },
    ]);
    expect(text.split('\n')).toEqual([
      '**Trend of `rel"ease]`** (the bot\'s record, oldest → newest): ✅ 7.1 · 🚫 8"].2',
      '',
      '```mermaid',
      'xychart-beta',
      '  title "release: last 2 runs, pass rate"',
      '  x-axis ["7.1", "8.2"]',
      '  y-axis "tests passed (%)" 0 --> 100',
      '  line [100, 0]',
      '```',
      '',
      '```mermaid',
      'xychart-beta',
      '  title "release: last 2 runs, duration"',
      '  x-axis ["7.1", "8.2"]',
      '  y-axis "duration (s)" 0 --> 13',
      '  bar [12.5, 0]',
      '```',
    ]);
  });

  it('is left out rather than cut when the job summary would pass 1 MiB', () => {
    expect(withTrend('summary', 'trend')).toBe('summary\n\ntrend');
    const full = 'x'.repeat(PlatformLimit.jobSummaryBytes - 3);
    expect(withTrend(full, 'trend')).toBe(full);
  });

  it('says in one line that a run without a base branch has no trend, asking nothing', async () => {
    expect(await baseBranchTrend({ url: 'http://127.0.0.1:9', token: 't' }, { owner: 'o', repo: 'r' }, null)).toBe(
      '**Trend** unavailable: this run has no base branch (not a pull request, nor a push to a branch).',
    );
  });
});
