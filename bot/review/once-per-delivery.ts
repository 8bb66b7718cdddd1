import type { Context } from 'probot';
import type { EmitterWebhookEventName } from '@octokit/webhooks';
import { AuditAction } from '../bot-constants.js';
import type { BotDeps } from '../bot-deps.js';
import type { HandlerOptions } from '../handlers/handler-options.js';

type Handler<E extends EmitterWebhookEventName> = (options: HandlerOptions<E>) => Promise<void>;

/**
 * Runs `handler` once per webhook delivery id: a redelivery (or a replayed request) finds the id
 * recorded and changes nothing. If the handler fails, the id is forgotten again so that GitHub's
 * redelivery can finish the work; every step it takes is itself idempotent (one review per reviewer,
 * head and plan; one re-run per head and plan).
 */
export function oncePerDelivery<E extends EmitterWebhookEventName>(deps: BotDeps, handler: Handler<E>): (context: Context<E>) => Promise<void> {
  return (context) => deps.track(handleOnce(context));

  async function handleOnce(context: Context<E>): Promise<void> {
    const payload = context.payload as { repository?: { owner: { login: string }; name: string; full_name: string }; action?: string };
    const event = `${context.name}${payload.action ? `.${payload.action}` : ''}`;
    if (!(await deps.store.markDeliveryProcessed(context.id, event, deps.clock().toISOString()))) {
      context.log.info({ delivery: context.id, event }, 'delivery already processed; ignored');
      await deps.botAuditor.append({ actor: 'webhooks', action: AuditAction.deliveryReplayed, subject: context.id, data: { event } });
      return;
    }
    const repository = payload.repository;
    if (!repository) return;
    const scope = {
      deps,
      octokit: context.octokit,
      repo: { owner: repository.owner.login, repo: repository.name },
      projectId: repository.full_name,
      log: context.log,
    };
    try {
      await handler({ context, deps, scope });
    } catch (error) {
      await deps.store.releaseDelivery(context.id).catch(() => undefined);
      throw error;
    }
  }
}
