/** The limits run_pytest puts on each caller (a token, or the local user). */
export interface RunLimits {
  /** Runs one caller may have going at once. */
  concurrent: number;
  /** Runs one caller may start per window. */
  perWindow: number;
  windowMs: number;
}

export const DEFAULT_RUN_LIMITS: RunLimits = { concurrent: 1, perWindow: 10, windowMs: 60_000 };

export type LimitDecision = { ok: true; release: () => void } | { ok: false; kind: 'concurrency' | 'rate'; message: string };

/**
 * Per-caller concurrency and a sliding-window rate of run starts, in memory: one process serves a
 * caller (stdio: one client; HTTP: a bot replica), so a shared counter would buy nothing here.
 */
export class TokenLimits {
  private readonly running = new Map<string, number>();
  private readonly starts = new Map<string, number[]>();

  constructor(
    private readonly limits: RunLimits,
    private readonly now: () => number = () => Date.now(),
  ) {}

  acquire(caller: string): LimitDecision {
    const active = this.running.get(caller) ?? 0;
    if (active >= this.limits.concurrent) {
      return {
        ok: false,
        kind: 'concurrency',
        message: `${caller} already has ${active} run${active === 1 ? '' : 's'} going (at most ${this.limits.concurrent} at once); wait for it to finish`,
      };
    }
    const now = this.now();
    const recent = (this.starts.get(caller) ?? []).filter((at) => now - at < this.limits.windowMs);
    if (recent.length >= this.limits.perWindow) {
      const retryInS = Math.ceil((this.limits.windowMs - (now - recent[0]!)) / 1000);
      this.starts.set(caller, recent);
      return {
        ok: false,
        kind: 'rate',
        message: `${caller} started ${recent.length} runs in the last ${this.limits.windowMs / 1000} s (at most ${this.limits.perWindow}); retry in ${retryInS} s`,
      };
    }
    recent.push(now);
    this.starts.set(caller, recent);
    this.running.set(caller, active + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.running.get(caller) ?? 1) - 1;
        if (left > 0) this.running.set(caller, left);
        else this.running.delete(caller);
      },
    };
  }
}
