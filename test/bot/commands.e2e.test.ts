import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { OWNER, REPO, type Harness, resetHarness, startHarness } from '../support/action-harness.js';
import { APP_ID, buttonPayload, commentPayload, deliver, makeTestApp, startTestBot } from '../support/bot-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { BASE_POLICY } from '../support/python-project.js';

const NUMBER = 9;
const HEAD = '5'.repeat(40);
const BASE = '6'.repeat(40);
const PLAN = 'c'.repeat(64);
const RUN = 777;
const PATH = `/repos/${OWNER}/${REPO}`;

let harness: Harness;
let privateKey: string;
let bot: RunningBot;
const dir = mkdtempSync(join(tmpdir(), 'qf-bot-commands-'));
let n = 0;

beforeAll(async () => {
  denyNetwork();
  const made = makeTestApp();
  privateKey = made.privateKey;
  harness = await startHarness({ app: made.app });
});
afterAll(async () => {
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  resetHarness(harness);
  bot = await startTestBot(harness.github, privateKey, { dbPath: join(dir, `bot-${++n}.db`) });
});
afterEach(async () => {
  await bot.close();
});

function seed(policy = BASE_POLICY, options: { plan?: boolean; gate?: boolean } = {}): void {
  const { github } = harness;
  github.pulls.push({
    number: NUMBER,
    head: { sha: HEAD, ref: 'changes', owner: OWNER },
    base: { sha: BASE, ref: 'master' },
    files: [{ filename: 'infra/deploy.sh' }],
  });
  github.contents.set(`${BASE}:.github/qualityfoundry.yml`, policy);
  const suite = { id: github.suiteOf(HEAD, RUN) };
  if (options.gate !== false)
    github.seedCheckRun({
      name: 'qualityfoundry/gate',
      head_sha: HEAD,
      app: { slug: 'github-actions', id: 15368 },
      conclusion: 'action_required',
      check_suite: suite,
    });
  if (options.plan !== false)
    github.seedCheckRun({
      name: 'qualityfoundry/plan',
      head_sha: HEAD,
      app: { slug: 'github-actions', id: 15368 },
      external_id: PLAN,
      conclusion: 'action_required',
      check_suite: suite,
    });
}

async function comment(login: string, body: string): Promise<number> {
  const payload = commentPayload({ number: NUMBER, body, login });
  harness.github.comments.push({
    id: payload.comment.id,
    issue_number: NUMBER,
    body,
    user: { login, type: 'User' },
    performed_via_github_app: null,
    html_url: payload.comment.html_url,
  });
  expect((await deliver(bot, 'issue_comment', payload)).status).toBe(200);
  return payload.comment.id;
}

const answers = () => harness.github.comments.filter((c) => c.performed_via_github_app?.id === APP_ID && !c.body.startsWith('<!--')).map((c) => c.body);
const status = () => harness.github.comments.find((c) => c.body.startsWith('<!-- qualityfoundry:status -->'))?.body ?? '';

describe('every command gets an answer', () => {
  it('an unknown command: a reply quoting it, "did you mean", and the grammar; nothing else written', async () => {
    seed();
    await comment('hubot', 'hmm\n/qf aprove');
    expect(answers()).toHaveLength(1);
    expect(answers()[0]).toContain('> /qf aprove\n\n@hubot this was not done: unknown command `aprove`, did you mean approve?.');
    expect(answers()[0]).toContain('| `/qf reject <reason>` |');
    expect(harness.github.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      `POST /app/installations/777/access_tokens`,
      `POST ${PATH}/issues/${NUMBER}/comments`,
    ]);
  });

  it('a comment with several commands is refused whole', async () => {
    seed();
    harness.github.permissions.set('hubot', 'maintain');
    await comment('hubot', '/qf approve\n/qf hold');
    expect(answers()[0]).toContain('> /qf approve\n> /qf hold');
    expect(answers()[0]).toContain('the comment holds 2 commands');
    expect(harness.github.checkRuns.filter((run) => run.name !== 'qualityfoundry/plan' && run.name !== 'qualityfoundry/gate')).toEqual([]);
  });

  it("plain conversation and the bot's own comments are left alone", async () => {
    seed();
    await comment('hubot', 'I will /qf approve after lunch');
    const own = commentPayload({
      number: NUMBER,
      body: '/qf approve',
      login: 'qualityfoundry-bot[bot]',
      type: 'Bot',
      viaApp: { id: APP_ID, slug: 'qualityfoundry-bot' },
    });
    expect((await deliver(bot, 'issue_comment', own)).status).toBe(200);
    expect(harness.github.writes()).toEqual([]);
  });

  it('/qf help replies with the grammar; /qf status reacts and creates the status comment with the plan and who is still needed', async () => {
    seed(BASE_POLICY.replace('count: 1', 'count: 2\n  approvers: { min_permission: write, users: [hubot], teams: [Codertocat/ops] }'));
    await comment('someone', '/qf help');
    expect(answers()[0]).toContain('@someone here is what the bot understands');
    const id = await comment('someone', '/qf status');
    expect(harness.github.reactions).toEqual([{ commentId: id, content: '+1', by: 'app' }]);
    expect(status()).toContain(`**Plan** \`${PLAN.slice(0, 12)}\``);
    expect(status()).toContain('**Approvals: 0 of 2**');
    expect(status()).toContain(
      'still needed: 2 more from someone with `write` or higher among @hubot, team Codertocat/ops (not the author or a commit author)',
    );
  });

  it('teams and users: someone outside both is refused "not in team"; a team member approves', async () => {
    seed(BASE_POLICY.replace('count: 1', 'count: 1\n  approvers: { min_permission: write, users: [hubot], teams: [ops] }'));
    harness.github.permissions.set('outsider', 'admin');
    harness.github.permissions.set('opsie', 'write');
    harness.github.teams.set('codertocat/ops', ['opsie']);
    await comment('outsider', '/qf approve');
    expect(answers().at(-1)).toContain('@outsider is not in team ops nor among approval.approvers.users (hubot)');
    await comment('opsie', '/qf approve');
    expect(harness.github.checkRuns.find((run) => run.name === 'qualityfoundry/approval')?.output.title).toBe('Approved by @opsie');
    expect(harness.github.reruns).toEqual([RUN]);
    expect(status()).toContain('- `/qf approve` by @outsider: @outsider is not in team ops');
  });

  it('no plan waiting: the approval is refused and says so', async () => {
    seed(BASE_POLICY, { plan: false });
    harness.github.permissions.set('hubot', 'maintain');
    await comment('hubot', '/qf approve');
    expect(answers()[0]).toContain(`no plan is waiting for approval on the head ${HEAD.slice(0, 7)}`);
  });

  it('the same approver twice counts once and says so', async () => {
    seed(BASE_POLICY.replace('count: 1', 'count: 2'));
    harness.github.permissions.set('hubot', 'maintain');
    await comment('hubot', '/qf approve');
    await comment('hubot', '/qf approve again');
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/approval')).toHaveLength(1);
    expect(answers().at(-1)).toContain(`@hubot already decided on plan ${PLAN.slice(0, 12)} at ${HEAD.slice(0, 7)}; it counts once`);
  });

  it('the Approve button approves through the same authorization', async () => {
    seed();
    harness.github.permissions.set('hubot', 'maintain');
    await deliver(
      bot,
      'check_run',
      buttonPayload({ number: NUMBER, login: 'hubot', identifier: 'qf-approve', checkRun: { id: 31337, head_sha: HEAD, external_id: PLAN } }),
    );
    const created = harness.github.requests.find((r) => r.method === 'POST' && r.path === `${PATH}/check-runs`)!;
    expect(created.body).toMatchObject({
      name: 'qualityfoundry/approval',
      conclusion: 'success',
      external_id: PLAN,
      output: { title: 'Approved by @hubot', summary: expect.stringContaining('approved with the check-run button') },
    });
    expect(harness.github.reruns).toEqual([RUN]);
  });

  it('hold publishes qualityfoundry/hold in progress; unhold completes it with success and re-runs the gate; retry re-runs it', async () => {
    seed();
    harness.github.permissions.set('hubot', 'maintain');
    await comment('hubot', '/qf hold waiting for the release freeze');
    const hold = harness.github.requests.find((r) => r.method === 'POST' && (r.body as any)?.name === 'qualityfoundry/hold')!;
    expect(hold.body).toEqual({
      name: 'qualityfoundry/hold',
      head_sha: HEAD,
      status: 'in_progress',
      output: { title: 'Held by @hubot', summary: 'Reason: waiting for the release freeze\n\n`/qf unhold` releases it.' },
    });
    expect(status()).toContain('⏸️ **Held** by @hubot: waiting for the release freeze');
    await comment('hubot', '/qf hold again');
    expect(answers().at(-1)).toContain(`the head ${HEAD.slice(0, 7)} is already held by @hubot`);

    await comment('hubot', '/qf unhold');
    const holdRun = harness.github.checkRuns.find((run) => run.name === 'qualityfoundry/hold')!;
    expect(harness.github.requests.find((r) => r.method === 'PATCH' && r.path === `${PATH}/check-runs/${holdRun.id}`)?.body).toEqual({
      status: 'completed',
      conclusion: 'success',
      output: { title: 'Released by @hubot', summary: 'The hold was released with `/qf unhold`.' },
    });
    expect(holdRun).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(harness.github.reruns).toEqual([RUN]);
    expect(status()).not.toContain('**Held**');

    await comment('hubot', '/qf retry');
    expect(harness.github.reruns).toEqual([RUN, RUN]);
    await comment('writer', '/qf retry');
    expect(answers().at(-1)).toContain('@writer is not a collaborator');
    expect(harness.github.reruns).toEqual([RUN, RUN]);
  });

  it('the policy path comes from .github/qualityfoundry-bot.yml on the default branch; the policy itself from the base commit', async () => {
    seed();
    harness.github.contents.set('HEAD:.github/qualityfoundry-bot.yml', 'policy: policies/gate.yml\n');
    harness.github.contents.set(`${BASE}:policies/gate.yml`, BASE_POLICY.replace('count: 1', 'count: 3'));
    await comment('someone', '/qf status');
    expect(status()).toContain('**Approvals: 0 of 3**');
    expect(harness.github.requests.some((r) => r.path.endsWith('/contents/policies%2Fgate.yml') && r.query.ref === BASE)).toBe(true);
  });
});
