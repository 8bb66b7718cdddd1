/** Names the bot writes to GitHub and to its audit chain, each spelt once. */

/** Hidden in the bot's one status comment per pull request; how the bot finds it again. */
export const STATUS_MARKER = '<!-- qualityfoundry:status -->';

/** The bot's settings file in `.github/` of the default branch (read with Probot's context.config). */
export const BOT_CONFIG_FILE = 'qualityfoundry-bot.yml';

/** `requested_action.identifier` of the check-run buttons (≤ 20 characters). */
export const ButtonId = { approve: 'qf-approve', reject: 'qf-reject' } as const;

export const AuditAction = {
  approved: 'bot.approval.accepted',
  rejected: 'bot.plan.rejected',
  held: 'bot.hold.set',
  released: 'bot.hold.released',
  retried: 'bot.workflow.rerun',
  refused: 'bot.command.refused',
  editedIgnored: 'bot.command.edited',
  stale: 'bot.approvals.stale',
  planSeen: 'bot.plan.seen',
  deliveryRefused: 'bot.delivery.refused',
  deliveryReplayed: 'bot.delivery.replayed',
  evidenceIngested: 'bot.evidence.ingested',
  evidenceRejected: 'bot.evidence.rejected',
  conflictEscalated: 'bot.conflict.escalated',
  conflictResolved: 'bot.conflict.resolved',
  conflictAutoResolved: 'bot.conflict.auto_resolved',
  reported: 'bot.report.sent',
  redeliveryRequested: 'bot.delivery.redelivery_requested',
} as const;

/** Who the bot is in its audit chain and in the resolutions ADAPTIVE makes without a human. */
export const BOT_ACTOR = 'qualityfoundry-bot';

/** The audit chain of the bot itself (deliveries), beside one chain per repository. */
export const BOT_CHAIN = 'bot:webhooks';

/** The webhooks path Probot's middleware answers (Probot's own default). */
export const DEFAULT_WEBHOOKS_PATH = '/api/github/webhooks';
