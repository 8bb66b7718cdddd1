import { AuditAction } from '../bot-constants.js';
import { parseComment } from '../commands/index.js';
import { replyRefused } from '../review/answer.js';
import { pullSubject } from '../review/status-comment.js';
import type { HandlerOptions } from './handler-options.js';

/**
 * An edited comment never acts: approving by editing an old comment would let anyone rewrite what
 * was agreed. A command the edit adds is recorded in the audit chain and answered, not run.
 */
export async function onIssueCommentEdited({ context, deps, scope }: HandlerOptions<'issue_comment.edited'>): Promise<void> {
  const { comment, issue, changes, sender } = context.payload;
  if (comment.performed_via_github_app?.id === deps.appId) return;
  const now = commandLines(comment.body);
  const before = new Set(commandLines(changes.body?.from ?? '').map((line) => line.toLowerCase()));
  const added = now.filter((line) => !before.has(line.toLowerCase()));
  if (added.length === 0) return;
  await deps.auditor(scope.projectId).append({
    actor: sender.login,
    action: AuditAction.editedIgnored,
    subject: pullSubject(scope.projectId, issue.number),
    data: { lines: added, comment: comment.id, url: comment.html_url },
  });
  if (sender.type === 'Bot') return;
  await replyRefused(scope, {
    pullNumber: issue.number,
    login: sender.login,
    lines: added,
    reason: 'edited comments never act; post the command in a new comment',
  });
}

function commandLines(body: string): string[] {
  const parsed = parseComment(body);
  return parsed.kind === 'command' ? [parsed.command.line] : parsed.kind === 'refused' ? parsed.lines : [];
}
