import { describe, expect, it } from 'vitest';
import { TokenLimits } from '../../src/mcp/token-limits.js';

describe('TokenLimits', () => {
  it('lets each caller have its own runs at once, up to the limit, and frees a slot once', () => {
    const limits = new TokenLimits({ concurrent: 2, perWindow: 100, windowMs: 60_000 }, () => 0);
    const a1 = limits.acquire('token:a');
    const a2 = limits.acquire('token:a');
    expect([a1.ok, a2.ok]).toEqual([true, true]);
    expect(limits.acquire('token:a')).toEqual({
      ok: false,
      kind: 'concurrency',
      message: expect.stringContaining('already has 2 runs going (at most 2 at once)'),
    });
    expect(limits.acquire('token:b').ok).toBe(true);
    if (a1.ok) {
      a1.release();
      a1.release(); // a second release frees nothing more
    }
    expect(limits.acquire('token:a').ok).toBe(true);
    expect(limits.acquire('token:a').ok).toBe(false);
  });

  it('counts starts in a sliding window per caller', () => {
    let now = 0;
    const limits = new TokenLimits({ concurrent: 10, perWindow: 2, windowMs: 60_000 }, () => now);
    for (const at of [0, 10_000]) {
      now = at;
      const slot = limits.acquire('token:a');
      if (slot.ok) slot.release();
    }
    now = 30_000;
    expect(limits.acquire('token:a')).toEqual({ ok: false, kind: 'rate', message: 'token:a started 2 runs in the last 60 s (at most 2); retry in 30 s' });
    expect(limits.acquire('token:b').ok).toBe(true);
    now = 60_000; // the first start left the window
    expect(limits.acquire('token:a').ok).toBe(true);
  });
});
