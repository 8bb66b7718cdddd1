import { ComplianceAuditor, projectChain } from '../src/governance/index.js';
import { BOT_CHAIN } from './bot-constants.js';
import type { StorageBackend } from '../src/store/index.js';

/** What every handler receives besides the event: the store, a clock, and who the bot is. */
export interface BotDeps {
  store: StorageBackend;
  clock: () => Date;
  /** The GitHub App's id: check runs and comments it made are recognised by it. */
  appId: number;
  /** The audit chain of a repository (`project:owner/name`), group-committed. */
  auditor(projectId: string): ComplianceAuditor;
  /** The bot's own chain: refused and replayed deliveries. */
  botAuditor: ComplianceAuditor;
  /** The bot's public base URL (QF_PUBLIC_URL), for links to the HTTP API; null when not configured. */
  publicUrl: string | null;
  /**
   * Tracks a delivery's handling. Probot's middleware answers 202 after 9 s and stops waiting for the
   * handler, so the server alone cannot tell when the work is done; shutdown waits for idle().
   */
  track<T>(work: Promise<T>): Promise<T>;
  /** Resolves once every tracked piece of work has finished. */
  idle(): Promise<void>;
}

export function createBotDeps(options: { store: StorageBackend; appId: number; clock?: () => Date; publicUrl?: string | null }): BotDeps {
  const clock = options.clock ?? (() => new Date());
  const auditors = new Map<string, ComplianceAuditor>();
  const working = new Set<Promise<unknown>>();
  return {
    track(work) {
      // Settled either way, so the set's copy never reports an unhandled rejection; the caller gets `work`.
      const tracked: Promise<unknown> = work.then(
        () => working.delete(tracked),
        () => working.delete(tracked),
      );
      working.add(tracked);
      return work;
    },
    async idle() {
      while (working.size > 0) await Promise.allSettled([...working]);
    },
    store: options.store,
    clock,
    appId: options.appId,
    publicUrl: options.publicUrl ?? null,
    botAuditor: new ComplianceAuditor(options.store, { chain: BOT_CHAIN, projectId: null, clock }),
    auditor(projectId) {
      let auditor = auditors.get(projectId);
      if (!auditor) {
        auditor = new ComplianceAuditor(options.store, { chain: projectChain(projectId), projectId, clock });
        auditors.set(projectId, auditor);
      }
      return auditor;
    },
  };
}
