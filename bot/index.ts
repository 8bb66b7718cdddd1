import type { ApplicationFunction } from 'probot';
import type { BotDeps } from './bot-deps.js';
import { onCheckRunCompleted } from './handlers/check-run-completed.js';
import { onCheckRunRequestedAction } from './handlers/check-run-requested-action.js';
import { onIssueCommentCreated } from './handlers/issue-comment-created.js';
import { onIssueCommentEdited } from './handlers/issue-comment-edited.js';
import { onPullRequestSynchronize } from './handlers/pull-request-synchronize.js';
import { onWorkflowRunCompleted } from './handlers/workflow-run-completed.js';
import { oncePerDelivery } from './review/once-per-delivery.js';

/** The QualityFoundry GitHub App: events wired to their handlers, each delivery processed once. */
export function qualityFoundryBot(deps: BotDeps): ApplicationFunction {
  return (app) => {
    app.on('issue_comment.created', oncePerDelivery(deps, onIssueCommentCreated));
    app.on('issue_comment.edited', oncePerDelivery(deps, onIssueCommentEdited));
    app.on('check_run.completed', oncePerDelivery(deps, onCheckRunCompleted));
    app.on('check_run.requested_action', oncePerDelivery(deps, onCheckRunRequestedAction));
    app.on('workflow_run.completed', oncePerDelivery(deps, onWorkflowRunCompleted));
    app.on('pull_request.synchronize', oncePerDelivery(deps, onPullRequestSynchronize));
  };
}
