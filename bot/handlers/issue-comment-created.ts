import { AuditAction } from '../bot-constants.js';
import { parseComment } from '../commands/index.js';
import { replyRefused } from '../review/answer.js';
import { executeCommand } from '../review/execute-command.js';
import { readBotConfig } from '../review/read-bot-config.js';
import { pullSubject } from '../review/status-comment.js';
import type { HandlerOptions } from './handler-options.js';

/** A new comment: at most one `/qf` command, run for the pull request it is on. */
export async function onIssueCommentCreated({ context, deps, scope }: HandlerOptions<'issue_comment.created'>): Promise<void> {
  const { comment, issue, sender } = context.payload;
  // The bot's own comments (status, answers) never act and are never answered.
  if (comment.performed_via_github_app?.id === deps.appId) return;
  const parsed = parseComment(comment.body);
  if (parsed.kind === 'none') return;
  const actor = { login: sender.login, type: sender.type ?? 'User' };
  const lines = parsed.kind === 'command' ? [parsed.command.line] : parsed.lines;
  const refusal =
    actor.type === 'Bot'
      ? `@${actor.login} is a bot account; comments by bots never give commands`
      : !issue.pull_request
        ? 'commands work on pull requests only'
        : parsed.kind === 'refused'
          ? parsed.reason
          : null;
  if (refusal !== null || parsed.kind !== 'command') {
    await deps.auditor(scope.projectId).append({
      actor: actor.login,
      action: AuditAction.refused,
      subject: pullSubject(scope.projectId, issue.number),
      data: {
        verb: parsed.kind === 'command' ? parsed.command.verb : 'unparsed',
        reason: refusal,
        headSha: null,
        source: { comment: comment.id, url: comment.html_url },
      },
    });
    await replyRefused(scope, { pullNumber: issue.number, login: actor.login, lines, reason: refusal ?? 'the command was not understood' });
    return;
  }
  const config = await readBotConfig(context);
  await executeCommand(scope, {
    pullNumber: issue.number,
    actor,
    command: parsed.command,
    source: { kind: 'comment', commentId: comment.id, url: comment.html_url },
    policyPath: config.policy,
  });
}
