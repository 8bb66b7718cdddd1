import { errorMessage } from '../../src/errors.js';
import { projectChain, verifyStoredChain } from '../../src/governance/index.js';
import type { StorageBackend } from '../../src/store/index.js';

/** The latest full verification of one project's audit chain. */
export interface ChainStatus {
  chain: string;
  ok: boolean;
  /** Events re-hashed. */
  count: number;
  /** The chain head it was verified against. */
  throughSeq: number;
  brokenSeq?: number;
  reason?: string;
  /** When the verification finished (ISO). */
  verifiedAt: string;
  durationMs: number;
}

/** What the overview reads: the latest result, never a verification of its own. */
export interface ChainStatusSource {
  /** undefined: not verified yet ("verification pending"). */
  latest(chain: string): ChainStatus | undefined;
}

export interface ChainVerifier extends ChainStatusSource {
  /** The round started with the bot; null when the verifier only runs on demand. */
  readonly first: Promise<void> | null;
  /** Full chain verifications run so far (a page view never adds one). */
  readonly verifications: number;
  /** Runs a round now (or joins the one running). */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

export interface ChainVerifierOptions {
  store: StorageBackend;
  clock: () => Date;
  log: { warn(fields: object, message: string): void };
  /** QF_CHAIN_VERIFY_MINUTES in ms; 0: no timer and no first round (runNow only). */
  intervalMs: number;
}

/**
 * Verifies each project's audit chain in the background: once at start, then every `intervalMs` for the
 * chains whose head moved since their last verification (an event was appended). Each verification
 * re-hashes the whole chain from seq 1, not only the new events, so a row edited in the past is caught
 * at the next append. Every replica runs its own verifier over the shared store; results are kept in
 * memory. Rounds never overlap; the timer is unref'd; stop() clears it and waits for a running round.
 */
export function startChainVerifier(options: ChainVerifierOptions): ChainVerifier {
  const { store, clock, log } = options;
  const latest = new Map<string, ChainStatus & { headHash: string }>();
  let verifications = 0;
  let running: Promise<void> | null = null;
  let stopped = false;

  async function round(): Promise<void> {
    const heads = (await store.listAuditHeads()).filter((h) => h.projectId !== null && h.chain === projectChain(h.projectId));
    for (const head of heads) {
      if (stopped) return;
      const known = latest.get(head.chain);
      if (known && known.throughSeq === head.seq && known.headHash === head.hash) continue;
      const began = performance.now();
      const result = await verifyStoredChain(store, head);
      verifications += 1;
      latest.set(head.chain, {
        chain: head.chain,
        ok: result.ok,
        count: result.count,
        throughSeq: head.seq,
        ...(result.brokenSeq !== undefined ? { brokenSeq: result.brokenSeq } : {}),
        ...(result.reason !== undefined ? { reason: result.reason } : {}),
        verifiedAt: clock().toISOString(),
        durationMs: performance.now() - began,
        headHash: head.hash,
      });
      if (!result.ok) log.warn({ chain: head.chain, brokenSeq: result.brokenSeq, reason: result.reason }, 'audit chain BROKEN');
    }
  }

  const runNow = (): Promise<void> => {
    running ??= round()
      .catch((error: unknown) => {
        // The previous results stay; the next round tries again.
        log.warn({ err: error, error: errorMessage(error) }, 'audit chain verification failed');
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  const first = options.intervalMs > 0 ? runNow() : null;
  const timer = options.intervalMs > 0 ? setInterval(() => void runNow(), options.intervalMs) : null;
  timer?.unref();
  return {
    first,
    get verifications() {
      return verifications;
    },
    latest(chain) {
      const status = latest.get(chain);
      if (!status) return undefined;
      const { headHash: _headHash, ...shown } = status;
      return shown;
    },
    runNow,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
