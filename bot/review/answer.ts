import { callGitHub } from '../../src/github/call-github.js';
import { PlatformLimit, truncateChars } from '../../src/github/limits.js';
import { grammarMarkdown } from '../commands/index.js';
import type { ReviewScope } from './review-types.js';

/** 👍 on the comment that carried an accepted command. */
export async function reactAccepted(scope: ReviewScope, commentId: number): Promise<void> {
  await callGitHub('react to the comment', () => scope.octokit.rest.reactions.createForIssueComment({ ...scope.repo, comment_id: commentId, content: '+1' }));
}

/** The answer to a command that was not run: the command quoted, why, and the grammar. */
export async function replyRefused(
  scope: ReviewScope,
  options: { pullNumber: number; login: string; lines: readonly string[]; reason: string },
): Promise<void> {
  const quoted = options.lines.map((line) => `> ${line}`).join('\n');
  const body = [quoted, '', `@${options.login} this was not done: ${options.reason}.`, '', grammarMarkdown()].join('\n');
  await reply(scope, options.pullNumber, body);
}

export async function reply(scope: ReviewScope, pullNumber: number, body: string): Promise<void> {
  await callGitHub('answer on the pull request', () =>
    scope.octokit.rest.issues.createComment({ ...scope.repo, issue_number: pullNumber, body: truncateChars(body, PlatformLimit.commentChars) }),
  );
}
