import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { ProbotOctokit } from 'probot';
import { startBot, type RunningBot } from '../../bot/server/start-bot.js';
import type { StoreConnection } from '../../src/store/index.js';
import { OWNER, REPO } from './action-harness.js';
import type { FakeGitHub } from './fake-github.js';
import type { FakeApp } from './fake-github-review-routes.js';

export const APP_ID = 424242;
export const APP_SLUG = 'qualityfoundry-bot';
export const INSTALLATION_ID = 777;
export const WEBHOOK_SECRET = 'test-webhook-secret-3f9c';

/** A GitHub App identity made for this test run: an RSA key pair generated now, never a checked-in key. */
export function makeTestApp(): { app: FakeApp; privateKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { app: { id: APP_ID, slug: APP_SLUG, publicKey, installationToken: `ghs_installation${randomUUID().replace(/-/g, '')}` }, privateKey };
}

/**
 * Probot as tests should run it (its testing guide): retries and throttling off, so a fault is seen
 * at once and writes are not spaced a second apart. Everything else is Probot's own client.
 */
// A function, because Probot passes its own throttle options at construction and an object default
// would be replaced by them, leaving writes throttled.
export const TestOctokit = ProbotOctokit.defaults((options: Record<string, any>) => ({
  ...options,
  retry: { ...options.retry, enabled: false },
  throttle: { ...options.throttle, enabled: false },
}));

/** Starts the real bot (Fastify + Probot's middleware) on a loopback port, talking to the fake as GitHub Enterprise. */
export async function startTestBot(
  github: FakeGitHub,
  privateKey: string,
  store: StoreConnection,
  env: Record<string, string> = {},
  options: { clock?: () => Date } = {},
): Promise<RunningBot> {
  const host = new URL(github.url).host;
  return startBot(
    {
      APP_ID: String(APP_ID),
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      GHE_HOST: host,
      GHE_PROTOCOL: 'http',
      LOG_LEVEL: process.env.QF_TEST_BOT_LOG ?? 'fatal',
      // Off unless a test is about it: reconciling on start would add app calls to every test's log.
      QF_RECONCILE_MINUTES: '0',
      ...('databaseUrl' in store ? { DATABASE_URL: store.databaseUrl } : { QF_DB: store.dbPath }),
      ...env,
    },
    { Octokit: TestOctokit, ...options },
  );
}

export interface Delivery {
  status: number;
  body: string;
}

/** A delivery's bytes and headers, signed like GitHub signs it (HMAC-SHA256 of the exact bytes). */
export function signDelivery(
  name: string,
  payload: unknown,
  options: { id?: string; secret?: string } = {},
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', options.secret ?? WEBHOOK_SECRET)
    .update(body)
    .digest('hex')}`;
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': name,
      'x-github-delivery': options.id ?? randomUUID(),
      'x-hub-signature-256': signature,
      'user-agent': 'GitHub-Hookshot/test',
    },
  };
}

/** POSTs a webhook over real HTTP, signed like GitHub signs it (HMAC-SHA256 of the exact bytes). */
export async function deliver(
  bot: { url: string },
  name: string,
  payload: unknown,
  options: { id?: string; secret?: string; signature?: string; path?: string } = {},
): Promise<Delivery> {
  const body = JSON.stringify(payload);
  const signature =
    options.signature ??
    `sha256=${createHmac('sha256', options.secret ?? WEBHOOK_SECRET)
      .update(body)
      .digest('hex')}`;
  const started = performance.now();
  const response = await fetch(`${bot.url}${options.path ?? '/api/github/webhooks'}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': name,
      'x-github-delivery': options.id ?? randomUUID(),
      'x-hub-signature-256': signature,
      'user-agent': 'GitHub-Hookshot/test',
    },
    body,
  });
  const text = await response.text();
  if (process.env.QF_TEST_TIMING) console.error(`delivery ${name} ${Math.round(performance.now() - started)} ms`);
  return { status: response.status, body: text };
}

const require = createRequire(import.meta.url);
type Example = { name: string; examples: Array<Record<string, any>> };
const EXAMPLES = require('@octokit/webhooks-examples/api.github.com/index.json') as Example[];

/** A real example payload from @octokit/webhooks-examples, deep-copied. */
function example(name: string, action: string): Record<string, any> {
  const found = EXAMPLES.find((entry) => entry.name === name)?.examples.find((candidate) => candidate.action === action);
  if (!found) throw new Error(`no ${name}.${action} example in @octokit/webhooks-examples`);
  return structuredClone(found);
}

function onRepository(payload: Record<string, any>): Record<string, any> {
  payload.repository.owner.login = OWNER;
  payload.repository.name = REPO;
  payload.repository.full_name = `${OWNER}/${REPO}`;
  payload.installation = { id: INSTALLATION_ID, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNzc3' };
  return payload;
}

let nextCommentId = 9_000_000;

/** `issue_comment.created` on pull request `number`, written by `login` (`type` Bot for an app). */
export function commentPayload(options: {
  number: number;
  body: string;
  login: string;
  type?: 'User' | 'Bot';
  id?: number;
  viaApp?: { id: number; slug: string };
}): Record<string, any> {
  const payload = onRepository(example('issue_comment', 'created'));
  const id = options.id ?? nextCommentId++;
  payload.issue.number = options.number;
  payload.issue.pull_request = {
    url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${options.number}`,
    html_url: `https://github.com/${OWNER}/${REPO}/pull/${options.number}`,
  };
  Object.assign(payload.comment, {
    id,
    body: options.body,
    html_url: `https://github.com/${OWNER}/${REPO}/pull/${options.number}#issuecomment-${id}`,
    performed_via_github_app: options.viaApp ?? null,
  });
  payload.comment.user = { ...payload.comment.user, login: options.login, type: options.type ?? 'User' };
  payload.sender = { ...payload.sender, login: options.login, type: options.type ?? 'User' };
  return payload;
}

/** `issue_comment.edited`: the body was `from` and is now `body`. */
export function editedCommentPayload(options: { number: number; from: string; body: string; login: string }): Record<string, any> {
  const payload = onRepository(example('issue_comment', 'edited'));
  const created = commentPayload(options);
  payload.issue = created.issue;
  payload.comment = created.comment;
  payload.sender = created.sender;
  payload.changes = { body: { from: options.from } };
  return payload;
}

/** `check_run.completed` for the Action's `qualityfoundry/plan` (action_required) on `headSha`. */
export function planCompletedPayload(options: {
  number: number;
  checkRun: { id: number; head_sha: string; external_id: string | null; name: string; conclusion: string | null; app: { slug: string; id?: number } };
}): Record<string, any> {
  const payload = onRepository(example('check_run', 'completed'));
  Object.assign(payload.check_run, {
    id: options.checkRun.id,
    name: options.checkRun.name,
    head_sha: options.checkRun.head_sha,
    external_id: options.checkRun.external_id,
    status: 'completed',
    conclusion: options.checkRun.conclusion,
    app: { ...payload.check_run.app, id: options.checkRun.app.id ?? 15368, slug: options.checkRun.app.slug },
    pull_requests: [{ number: options.number, head: { sha: options.checkRun.head_sha, ref: 'changes' }, base: { sha: 'b'.repeat(40), ref: 'master' } }],
  });
  return payload;
}

/** `check_run.requested_action`: `login` clicked the button `identifier` on the bot's check run. */
export function buttonPayload(options: {
  number: number;
  login: string;
  identifier: string;
  checkRun: { id: number; head_sha: string; external_id: string | null };
}): Record<string, any> {
  const payload = onRepository(example('check_run', 'requested_action'));
  Object.assign(payload.check_run, {
    id: options.checkRun.id,
    name: 'qualityfoundry/approval',
    head_sha: options.checkRun.head_sha,
    external_id: options.checkRun.external_id,
    app: { ...payload.check_run.app, id: APP_ID, slug: APP_SLUG },
    pull_requests: [{ number: options.number, head: { sha: options.checkRun.head_sha, ref: 'changes' }, base: { sha: 'b'.repeat(40), ref: 'master' } }],
  });
  payload.requested_action = { identifier: options.identifier };
  payload.sender = { ...payload.sender, login: options.login, type: 'User' };
  return payload;
}

/** `pull_request.synchronize`: the head moved from `before` to `after`. */
export function synchronizePayload(options: { number: number; before: string; after: string; baseSha: string; author?: string }): Record<string, any> {
  const payload = onRepository(example('pull_request', 'synchronize'));
  payload.number = options.number;
  Object.assign(payload.pull_request, { number: options.number, state: 'open', html_url: `https://github.com/${OWNER}/${REPO}/pull/${options.number}` });
  payload.pull_request.head.sha = options.after;
  payload.pull_request.base.sha = options.baseSha;
  payload.pull_request.user = { ...payload.pull_request.user, login: options.author ?? 'Codertocat' };
  payload.before = options.before;
  payload.after = options.after;
  return payload;
}

/** `workflow_run.completed` (a real example payload) for run `id`, attempt `attempt`, on `headSha`. */
export function workflowRunPayload(options: {
  id: number;
  headSha: string;
  attempt?: number;
  conclusion?: string;
  /** The run's trigger and where its head is: a push to a branch of this repository, or a pull request's head (a fork's when headRepository names it). */
  event?: string;
  headBranch?: string;
  headRepository?: string;
}): Record<string, any> {
  const payload = onRepository(example('workflow_run', 'completed'));
  Object.assign(payload.workflow_run, {
    id: options.id,
    head_sha: options.headSha,
    run_attempt: options.attempt ?? 1,
    conclusion: options.conclusion ?? 'success',
    html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${options.id}`,
    ...(options.event ? { event: options.event } : {}),
    ...(options.headBranch ? { head_branch: options.headBranch } : {}),
  });
  if (options.headRepository) payload.workflow_run.head_repository.full_name = options.headRepository;
  return payload;
}

/** `check_run.completed` of a check run the Action made (the github-actions app), e.g. `qualityfoundry/gate`. */
export function checkRunPayload(options: { id: number; name: string; headSha: string; detailsUrl: string; conclusion?: string }): Record<string, any> {
  const payload = onRepository(example('check_run', 'completed'));
  Object.assign(payload.check_run, {
    id: options.id,
    name: options.name,
    head_sha: options.headSha,
    details_url: options.detailsUrl,
    status: 'completed',
    conclusion: options.conclusion ?? 'success',
    app: { ...payload.check_run.app, id: 15368, slug: 'github-actions' },
  });
  return payload;
}
