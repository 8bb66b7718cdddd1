import type { Probot } from 'probot';
import { errorMessage } from '../../src/errors.js';
import type { ComplianceAuditor } from '../../src/governance/index.js';
import type { StorageBackend } from '../../src/store/index.js';
import { type ReconcileLimits, type ReconcileResult, reconcileDeliveries } from './reconcile-deliveries.js';

export interface Reconciler {
  /** The round started with the bot; null when reconciling is off. */
  readonly first: Promise<ReconcileResult> | null;
  /** Runs a round now (or joins the one running). */
  runNow(): Promise<ReconcileResult>;
  stop(): Promise<void>;
}

/**
 * Reconciles missed deliveries once at start and then every `intervalMs` (0: never). Rounds never
 * overlap; the timer is unref'd so it keeps no process alive; stop() waits for a running round.
 */
export function startReconciler(options: {
  probot: Probot;
  store: StorageBackend;
  auditor: ComplianceAuditor;
  clock: () => Date;
  intervalMs: number;
  limits?: Partial<ReconcileLimits>;
}): Reconciler {
  let running: Promise<ReconcileResult> | null = null;
  const runNow = (): Promise<ReconcileResult> => {
    running ??= (async () => {
      try {
        let octokit: Awaited<ReturnType<Probot['auth']>>;
        try {
          octokit = await options.probot.auth();
        } catch (error) {
          options.probot.log.warn({ err: error }, 'reconcile: cannot authenticate as the app');
          return { listed: 0, redelivered: [], skipped: [], errors: [`authenticating as the app: ${errorMessage(error)}`] };
        }
        return await reconcileDeliveries({
          octokit,
          store: options.store,
          auditor: options.auditor,
          log: options.probot.log,
          clock: options.clock,
          ...(options.limits ? { limits: options.limits } : {}),
        });
      } finally {
        running = null;
      }
    })();
    return running;
  };
  if (options.intervalMs <= 0) return { first: null, runNow, stop: async () => undefined };
  const first = runNow();
  const timer = setInterval(() => void runNow(), options.intervalMs);
  timer.unref();
  return {
    first,
    runNow,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
