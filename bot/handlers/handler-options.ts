import type { Context } from 'probot';
import type { EmitterWebhookEventName } from '@octokit/webhooks';
import type { BotDeps } from '../bot-deps.js';
import type { ReviewScope } from '../review/review-types.js';

/** The one options object every handler takes. */
export interface HandlerOptions<E extends EmitterWebhookEventName> {
  context: Context<E>;
  deps: BotDeps;
  /** The repository the event is about, with the octokit Probot authenticated for it. */
  scope: ReviewScope;
}
