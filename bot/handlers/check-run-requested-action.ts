import { ButtonId } from '../bot-constants.js';
import { executeCommand } from '../review/execute-command.js';
import { findPullRequestByHeadSha } from '../review/load-pull-request.js';
import { readBotConfig } from '../review/read-bot-config.js';
import type { HandlerOptions } from './handler-options.js';

/** A click on the bot's Approve/Reject buttons: the same command, through the same authorization. */
export async function onCheckRunRequestedAction({ context, scope }: HandlerOptions<'check_run.requested_action'>): Promise<void> {
  const { check_run: run, requested_action: action, sender } = context.payload;
  const verb = action?.identifier === ButtonId.approve ? 'approve' : action?.identifier === ButtonId.reject ? 'reject' : null;
  if (verb === null) return;
  const number = run.pull_requests[0]?.number ?? (await findPullRequestByHeadSha(scope, run.head_sha));
  if (number === null) return;
  const config = await readBotConfig(context);
  await executeCommand(scope, {
    pullNumber: number,
    actor: { login: sender.login, type: sender.type ?? 'User' },
    command: { verb, reason: '', line: `/qf ${verb} (the ${verb === 'approve' ? 'Approve' : 'Reject'} button of check run ${run.id})` },
    source: { kind: 'button', checkRunId: run.id, url: run.html_url ?? null, headSha: run.head_sha, planHash: run.external_id ?? null },
    policyPath: config.policy,
  });
}
