import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStoredChains } from '../../src/governance/index.js';
import { openStore } from '../../src/store/index.js';
import { type Harness, OWNER, REPO, startHarness } from '../support/action-harness.js';
import { APP_ID, commentPayload, deliver, makeTestApp, WEBHOOK_SECRET } from '../support/bot-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { BASE_POLICY } from '../support/python-project.js';

const CHILD = fileURLToPath(new URL('../support/bot-child.ts', import.meta.url));
const PROJECT = `${OWNER}/${REPO}`;
const NUMBER = 12;
const HEAD = '7'.repeat(40);
const BASE = '8'.repeat(40);
const PLAN = 'e'.repeat(64);
const RUN = 4242;
const APPROVERS = Array.from({ length: 10 }, (_, i) => `maintainer${i}`);

let harness: Harness;
let privateKey: string;
let postgres: TestPostgres;
const children: ChildProcess[] = [];

/** Starts one replica as its own process and resolves with its URL once it listens. */
async function startReplica(databaseUrl: string): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      PATH: process.env.PATH,
      APP_ID: String(APP_ID),
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      GHE_HOST: new URL(harness.github.url).host,
      GHE_PROTOCOL: 'http',
      DATABASE_URL: databaseUrl,
      // Warnings on: the chain verifier logs a break it finds (there must be none).
      LOG_LEVEL: 'warn',
      QF_RECONCILE_MINUTES: '0',
      // Each replica verifies the shared chains on its own, every 60 ms here: rounds overlap the flood's appends.
      QF_CHAIN_VERIFY_MINUTES: '0.001',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      stdout += `${line}\n`;
      const match = /^ready (\S+)$/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the replica exited with ${code} before it listened: ${stderr}`)));
  });
  return { url, child, output: () => stdout + stderr };
}

async function stopReplica(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

beforeAll(async () => {
  denyNetwork();
  const made = makeTestApp();
  privateKey = made.privateKey;
  harness = await startHarness({ app: made.app });
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await harness?.close();
  await postgres?.stop();
});

describe('two bot processes on one PostgreSQL', () => {
  it('a flood of the same and different deliveries: one gap-free audit chain, no doubled approvals, one re-run', async () => {
    const { github } = harness;
    github.pulls.push({
      number: NUMBER,
      head: { sha: HEAD, ref: 'changes', owner: OWNER },
      base: { sha: BASE, ref: 'master' },
      files: [{ filename: 'infra/deploy.sh' }],
    });
    github.contents.set(`${BASE}:.github/qualityfoundry.yml`, BASE_POLICY.replace('count: 1', 'count: 3'));
    const suite = { id: github.suiteOf(HEAD, RUN) };
    github.seedCheckRun({
      name: 'qualityfoundry/plan',
      head_sha: HEAD,
      app: { slug: 'github-actions', id: 15368 },
      external_id: PLAN,
      conclusion: 'action_required',
      check_suite: suite,
    });
    for (const login of APPROVERS) github.permissions.set(login, 'maintain');
    github.permissions.set('writer', 'write');

    const databaseUrl = await postgres.createDatabase();
    const [a, b] = await Promise.all([startReplica(databaseUrl), startReplica(databaseUrl)]);

    type Sent = { payload: Record<string, any>; id: string; to: Array<{ url: string }> };
    const sent: Sent[] = [];
    const post = (login: string, body: string, to: Array<{ url: string }>): void => {
      const payload = commentPayload({ number: NUMBER, body, login });
      github.comments.push({
        id: payload.comment.id,
        issue_number: NUMBER,
        body,
        user: { login, type: 'User' },
        performed_via_github_app: null,
        html_url: payload.comment.html_url,
      });
      sent.push({ payload, id: randomUUID(), to });
    };
    // Each approval reaches BOTH replicas with the same delivery id (a redelivery racing the original);
    // a repeated approval by the same reviewer, a refused one and plain status requests go to one each.
    for (const login of APPROVERS) post(login, '/qf approve', [a, b]);
    post(APPROVERS[0]!, '/qf approve again', [b]);
    post('writer', '/qf approve', [a]);
    for (let i = 0; i < 8; i++) post(APPROVERS[i % APPROVERS.length]!, '/qf status', [i % 2 ? a : b]);

    const answers = await Promise.all(sent.flatMap((s) => s.to.map((bot) => deliver(bot, 'issue_comment', s.payload, { id: s.id }))));
    // 202: Probot's answer after 9 s on a loaded machine, the handler still running (GitHub's 10 s limit).
    expect(answers.filter((r) => r.status !== 200 && r.status !== 202)).toEqual([]);
    // SIGTERM: each replica finishes the deliveries it is still handling, then exits 0.
    expect(await Promise.all([stopReplica(a.child), stopReplica(b.child)])).toEqual([0, 0]);
    // Both replicas verified the chains while the other appended: no append was taken for a break.
    for (const replica of [a, b]) expect(replica.output()).not.toMatch(/audit chain (BROKEN|verification failed)/);

    const store = await openStore({ databaseUrl });
    try {
      // Every delivery processed once: the twin of each approval was recorded as a replay.
      const replays = await store.listAudit({ chain: 'bot:webhooks', action: 'bot.delivery.replayed' });
      expect(replays).toHaveLength(APPROVERS.length);
      expect(new Set(replays.map((e) => e.subject))).toEqual(new Set(sent.filter((s) => s.to.length === 2).map((s) => s.id)));

      // No doubled approvals: one review per approver, each published once.
      const reviews = await store.listPrReviews(PROJECT, NUMBER);
      expect(reviews.map((r) => r.by).sort()).toEqual([...APPROVERS].sort());
      expect((await store.listApprovals({ projectId: PROJECT })).map((r) => r.by).sort()).toEqual([...APPROVERS].sort());
      const approvalRuns = github.checkRuns.filter((run) => run.name === 'qualityfoundry/approval');
      expect(approvalRuns.map((run) => run.output?.title).sort()).toEqual(APPROVERS.map((login) => `Approved by @${login}`).sort());

      // One re-run for the head and plan, however many approvals passed the count at once.
      expect(github.reruns).toEqual([RUN]);

      // One gap-free chain per repository and for the bot, holding every decision once.
      const verification = await verifyStoredChains(store);
      expect(verification.ok).toBe(true);
      const chain = await store.listAudit({ chain: `project:${PROJECT}` });
      expect(chain.map((e) => e.seq)).toEqual(chain.map((_, i) => i + 1));
      const count = (action: string): number => chain.filter((e) => e.action === action).length;
      expect(count('bot.approval.accepted')).toBe(APPROVERS.length);
      expect(count('bot.workflow.rerun')).toBe(1);
      expect(
        chain
          .filter((e) => e.action === 'bot.command.refused')
          .map((e) => e.actor)
          .sort(),
      ).toEqual([APPROVERS[0], 'writer'].sort());

      // Answers: one 👍 per accepted command, one reply per refusal, one status comment.
      expect(github.reactions).toHaveLength(APPROVERS.length + 8);
      const bot = github.comments.filter((c) => c.performed_via_github_app?.id === APP_ID);
      expect(bot.filter((c) => c.body.startsWith('<!-- qualityfoundry:status -->'))).toHaveLength(1);
      expect(bot.filter((c) => !c.body.startsWith('<!--'))).toHaveLength(2);
    } finally {
      await store.close();
    }
  }, 120_000);
});
