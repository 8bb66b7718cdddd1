import type { components } from '@octokit/openapi-types';
import type { ProbotOctokit } from 'probot';
import { errorMessage } from '../../src/errors.js';
import type { ComplianceAuditor } from '../../src/governance/index.js';
import type { StorageBackend } from '../../src/store/index.js';
import { AuditAction } from '../bot-constants.js';

type HookDelivery = components['schemas']['hook-delivery-item'];

/** How far back and how much one round looks and asks for: a bot down for a day catches up in a few rounds. */
export interface ReconcileLimits {
  /** Deliveries older than this are left alone (GitHub keeps them 3 days). */
  windowMs: number;
  /** Pages of 100 listed per round, newest first. */
  maxPages: number;
  /** Redeliveries requested per round. */
  maxRedeliveries: number;
  /** A delivery GitHub already tried this often is not asked for again (it fails for a reason). */
  maxAttempts: number;
}

export const DEFAULT_RECONCILE_LIMITS: ReconcileLimits = { windowMs: 24 * 3_600_000, maxPages: 5, maxRedeliveries: 25, maxAttempts: 3 };

export interface ReconcileResult {
  listed: number;
  /** Delivery GUIDs (x-github-delivery) asked for again, with the attempt id that was redelivered. */
  redelivered: Array<{ guid: string; id: number; event: string }>;
  /** Failed deliveries left alone, and why. */
  skipped: Array<{ guid: string; reason: 'recorded' | 'claimed' | 'attempts' | 'limit' }>;
  errors: string[];
}

export interface ReconcileOptions {
  /** Authenticated as the app (JWT): `await probot.auth()`. */
  octokit: Pick<InstanceType<typeof ProbotOctokit>, 'request'>;
  store: StorageBackend;
  auditor: ComplianceAuditor;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  clock: () => Date;
  limits?: Partial<ReconcileLimits>;
}

const ok = (delivery: HookDelivery): boolean => delivery.status_code >= 200 && delivery.status_code < 300;

/**
 * Catches up on deliveries the bot missed while it was down or failing: lists the app's recent
 * deliveries (`GET /app/hook/deliveries`), and for each GUID whose every attempt failed and that the
 * store has not recorded, asks GitHub to deliver it again (`POST /app/hook/deliveries/{id}/attempts`).
 * Bounded by ReconcileLimits; a claim per attempt id keeps replicas from asking twice; logged and
 * audited on the bot's chain. Errors are reported, never thrown: the next round tries again.
 */
export async function reconcileDeliveries(options: ReconcileOptions): Promise<ReconcileResult> {
  const limits = { ...DEFAULT_RECONCILE_LIMITS, ...options.limits };
  const { store, log } = options;
  const now = options.clock();
  const oldest = now.getTime() - limits.windowMs;
  const result: ReconcileResult = { listed: 0, redelivered: [], skipped: [], errors: [] };
  const byGuid = new Map<string, HookDelivery[]>();
  try {
    let cursor: string | undefined;
    for (let page = 0; page < limits.maxPages; page += 1) {
      const response = await options.octokit.request('GET /app/hook/deliveries', { per_page: 100, ...(cursor ? { cursor } : {}) });
      const deliveries = response.data as HookDelivery[];
      result.listed += deliveries.length;
      let past = false;
      for (const delivery of deliveries) {
        if (Date.parse(delivery.delivered_at) < oldest) {
          past = true;
          continue;
        }
        byGuid.set(delivery.guid, [...(byGuid.get(delivery.guid) ?? []), delivery]);
      }
      cursor = nextCursor(response.headers.link);
      if (past || !cursor || deliveries.length === 0) break;
    }
  } catch (error) {
    result.errors.push(`listing deliveries: ${errorMessage(error)}`);
    log.warn({ err: error }, 'reconcile: cannot list the app deliveries');
    return result;
  }

  for (const [guid, attempts] of byGuid) {
    if (attempts.some(ok)) continue;
    if (await store.hasDelivery(guid)) {
      result.skipped.push({ guid, reason: 'recorded' });
      continue;
    }
    if (attempts.length >= limits.maxAttempts) {
      result.skipped.push({ guid, reason: 'attempts' });
      continue;
    }
    if (result.redelivered.length >= limits.maxRedeliveries) {
      result.skipped.push({ guid, reason: 'limit' });
      continue;
    }
    const latest = attempts.reduce((a, b) => (Date.parse(b.delivered_at) > Date.parse(a.delivered_at) ? b : a));
    const id = Number(latest.id);
    const claim = `redeliver:${id}`;
    if (!(await store.claim(claim, now.toISOString()))) {
      result.skipped.push({ guid, reason: 'claimed' });
      continue;
    }
    const event = `${latest.event}${latest.action ? `.${latest.action}` : ''}`;
    try {
      await options.octokit.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: id });
    } catch (error) {
      await store.releaseClaim(claim).catch(() => undefined);
      result.errors.push(`redelivering ${guid}: ${errorMessage(error)}`);
      log.warn({ err: error, guid, id }, 'reconcile: redelivery refused');
      continue;
    }
    result.redelivered.push({ guid, id, event });
    log.info({ guid, id, event, statusCode: latest.status_code }, 'reconcile: asked GitHub to redeliver a failed delivery');
    await options.auditor.append({
      actor: 'qualityfoundry-bot',
      action: AuditAction.redeliveryRequested,
      subject: guid,
      data: { deliveryId: id, event, statusCode: latest.status_code, attempts: attempts.length },
    });
  }
  log.info({ listed: result.listed, redelivered: result.redelivered.length, skipped: result.skipped.length }, 'reconcile: round done');
  return result;
}

function nextCursor(link: string | undefined): string | undefined {
  const next = link?.split(',').find((part) => /rel="next"/.test(part));
  const url = next?.match(/<([^>]+)>/)?.[1];
  return url ? (new URL(url).searchParams.get('cursor') ?? undefined) : undefined;
}
