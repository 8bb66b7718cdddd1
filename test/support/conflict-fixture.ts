import { expect } from 'vitest';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { run } from '../../src/action/run.js';
import { FAST_TUNING, type Harness, PR_NUMBER, prepareRun, pullRequestPayload, seedPullRequest, startHarness, withRunnerEnv } from './action-harness.js';
import { APP_ID, commentPayload, deliver, makeTestApp } from './bot-harness.js';
import { denyNetwork } from './deny-network.js';
import { createFixtureRepo, type FixtureRepo } from './python-project.js';

/** A test that fails while the workspace holds FLAKE: the same head SHA, two different results. */
export const FLAKY_CHANGE = {
  'tests/test_flaky.py': 'import os\n\n\ndef test_flaky():\n    assert not os.path.exists(os.path.join(os.path.dirname(__file__), "..", "FLAKE"))\n',
};

export interface ActionRunOptions {
  /** Action inputs beyond the harness's defaults (shard-index, mode: merge, …). */
  inputs?: Record<string, string>;
  /** The policy the base commit carries for this run; unchanged when absent. */
  policy?: string;
  /** Seeds the pull request in the fake first (default true). */
  seed?: boolean;
  /** GITHUB_RUN_ATTEMPT of the run (default 1). */
  attempt?: number;
  /** Labels the pull request carries in the event (plan rules can match them). */
  labels?: string[];
}

export interface ConflictFixture {
  harness: Harness;
  privateKey: string;
  repo: FixtureRepo;
  /** Runs the real Action as workflow run `runId` and returns the evidence zip it uploaded last. */
  actionRun(runId: number, options?: ActionRunOptions): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * What the bot's conflict tests share: no network, a test GitHub App, the fakes of GitHub and of the
 * artifact service, a fixture repository with `changes` (real pytest tests), and a way to run the
 * real Action on it to get real evidence bundles.
 */
export async function startConflictFixture(changes: Record<string, string> = FLAKY_CHANGE): Promise<ConflictFixture> {
  denyNetwork();
  const made = makeTestApp();
  const harness = await startHarness({ app: made.app });
  const repo = await createFixtureRepo(changes);
  const actionRun = async (runId: number, options: ActionRunOptions = {}): Promise<Buffer> => {
    if (options.seed ?? true) seedPullRequest(harness.github, repo);
    if (options.policy) harness.github.contents.set(`${repo.baseSha}:.github/qualityfoundry.yml`, options.policy);
    const payload = await pullRequestPayload(repo);
    if (options.labels) payload.pull_request.labels = options.labels.map((name, id) => ({ id, name }));
    const before = harness.artifacts.artifacts.length;
    const prepared = await prepareRun(harness, { eventName: 'pull_request', payload, workspace: repo.dir, runId, inputs: options.inputs ?? {} });
    await withRunnerEnv({ ...prepared.env, GITHUB_RUN_ATTEMPT: String(options.attempt ?? 1) }, () => run({ tuning: FAST_TUNING }));
    const artifact = harness.artifacts.artifacts
      .slice(before)
      .filter((candidate) => candidate.runId === runId && candidate.finalized)
      .at(-1);
    if (!artifact?.blob) throw new Error(`the Action uploaded no evidence in run ${runId}`);
    return artifact.blob;
  };
  // The harness removes the fixture repository with its own temporary folders.
  return { harness, privateKey: made.privateKey, repo, actionRun, close: () => harness.close() };
}

/** The pull request as reviewers see it: the bot's comments, its status comment, and commenting as someone. */
/** Takes getters: test files set the harness and start a bot per test after the module is loaded. */
export function pullConversation(harness: () => Harness, bot: () => RunningBot) {
  const botComments = () => harness().github.comments.filter((c) => c.performed_via_github_app?.id === APP_ID);
  return {
    botComments,
    status: () => botComments().find((c) => c.body.startsWith('<!-- qualityfoundry:status -->'))?.body ?? '',
    /** The bot's comments other than the status comment, oldest first. */
    answers: () =>
      botComments()
        .filter((c) => !c.body.startsWith('<!--'))
        .map((c) => c.body),
    async comment(login: string, body: string): Promise<void> {
      const payload = commentPayload({ number: PR_NUMBER, body, login });
      harness().github.comments.push({
        id: payload.comment.id,
        issue_number: PR_NUMBER,
        body,
        user: { login, type: 'User' },
        performed_via_github_app: null,
        html_url: payload.comment.html_url,
      });
      expect((await deliver(bot(), 'issue_comment', payload)).status).toBe(200);
    },
  };
}
