import { createPublicKey, verify } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type FakeGitHub, invalid, notFound, paginate, send } from './fake-github.js';

/** The GitHub App the bot runs as: its id, slug, public key (to check its JWTs) and the installation token it gets. */
export interface FakeApp {
  id: number;
  slug: string;
  publicKey: string;
  installationToken: string;
}

/** An app JWT (RS256, `iss` = app id, not expired) signed with the app's private key, as GitHub checks it. */
export function verifyAppJwt(authorization: string, app: FakeApp): boolean {
  const jwt = /^bearer (.+)$/i.exec(authorization)?.[1];
  const [header, payload, signature] = jwt?.split('.') ?? [];
  if (!header || !payload || !signature) return false;
  const ok = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), createPublicKey(app.publicKey), Buffer.from(signature, 'base64url'));
  if (!ok) return false;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown; exp?: number };
  return String(claims.iss) === String(app.id) && typeof claims.exp === 'number' && claims.exp * 1000 > Date.now();
}

interface Route {
  method: string;
  rest: string;
  url: URL;
  body: unknown;
  response: ServerResponse;
  caller: 'app' | 'workflow';
}

/**
 * The endpoints the bot uses beyond the Action's: pull requests and their commits, permissions and
 * team memberships, issue comments and reactions, workflow runs and re-runs. Answers true when it
 * handled the request.
 */
export function handleReviewRoute(fake: FakeGitHub, { method, rest, url, body, response, caller }: Route): boolean {
  let m: RegExpMatchArray | null;
  const owner = url.pathname.split('/')[2];
  const repo = url.pathname.split('/')[3];
  const done = (status: number, payload: unknown): true => (send(response, status, payload), true);
  const missing = (): true => (notFound(response), true);

  if (method === 'GET' && (m = rest.match(/^pulls\/(\d+)$/))) {
    const pull = fake.pulls.find((candidate) => candidate.number === Number(m![1]));
    if (!pull) return missing();
    return done(200, {
      number: pull.number,
      state: pull.state ?? 'open',
      html_url: `https://github.com/${owner}/${repo}/pull/${pull.number}`,
      user: { login: pull.author ?? 'Codertocat', type: 'User' },
      head: { sha: pull.head.sha, ref: pull.head.ref, label: `${pull.head.owner}:${pull.head.ref}` },
      base: { sha: pull.base.sha, ref: pull.base.ref },
    });
  }
  if (method === 'GET' && (m = rest.match(/^pulls\/(\d+)\/commits$/))) {
    const pull = fake.pulls.find((candidate) => candidate.number === Number(m![1]));
    if (!pull) return missing();
    const commits = pull.commits ?? [{ sha: pull.head.sha, author: pull.author ?? 'Codertocat' }];
    const { items } = paginate(commits, url, response);
    return done(
      200,
      items.map((commit) => ({
        sha: commit.sha,
        author: { login: commit.author, type: 'User' },
        committer: { login: 'web-flow', type: 'User' },
        commit: { message: 'change' },
      })),
    );
  }
  if (method === 'GET' && (m = rest.match(/^collaborators\/([^/]+)\/permission$/))) {
    const role = fake.permissions.get(decodeURIComponent(m[1]!).toLowerCase());
    if (!role) return done(404, { message: `${m[1]} is not a user`, status: '404' });
    const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
    return done(200, { permission, role_name: role, user: { login: m[1] } });
  }
  if (method === 'GET' && (m = rest.match(/^issues\/(\d+)\/comments$/))) {
    const { items } = paginate(
      fake.comments.filter((comment) => comment.issue_number === Number(m![1])),
      url,
      response,
    );
    return done(200, items);
  }
  if (method === 'POST' && (m = rest.match(/^issues\/(\d+)\/comments$/))) {
    const text = (body as { body?: unknown }).body;
    if (typeof text !== 'string' || text.length === 0) return (invalid(response, 'body is required'), true);
    if (text.length > 65536) return (invalid(response, 'body is too long (maximum is 65536 characters)'), true);
    const comment = newComment(fake, Number(m[1]), text, caller, `${owner}/${repo}`);
    fake.comments.push(comment);
    return done(201, comment);
  }
  if (method === 'PATCH' && (m = rest.match(/^issues\/comments\/(\d+)$/))) {
    const comment = fake.comments.find((candidate) => candidate.id === Number(m![1]));
    if (!comment) return missing();
    // Only the author may edit a comment: the app cannot edit a human's.
    if (caller !== 'app' || comment.performed_via_github_app?.id !== fake.app?.id)
      return done(403, { message: 'Resource not accessible by integration', status: '403' });
    comment.body = String((body as { body?: unknown }).body);
    return done(200, comment);
  }
  if (method === 'POST' && (m = rest.match(/^issues\/comments\/(\d+)\/reactions$/))) {
    if (!fake.comments.some((comment) => comment.id === Number(m![1]))) return missing();
    fake.reactions.push({ commentId: Number(m[1]), content: String((body as { content?: unknown }).content), by: caller });
    return done(201, { id: fake.nextId++, content: (body as { content?: unknown }).content });
  }
  if (method === 'GET' && rest === 'actions/runs') {
    const suite = url.searchParams.get('check_suite_id');
    const runs = fake.workflowRuns.filter((run) => !suite || run.check_suite_id === Number(suite));
    return done(200, { total_count: runs.length, workflow_runs: runs.map(publicRun) });
  }
  if (method === 'GET' && (m = rest.match(/^actions\/runs\/(\d+)$/))) {
    const run = fake.workflowRuns.find((candidate) => candidate.id === Number(m![1]));
    return run ? done(200, publicRun(run)) : missing();
  }
  if (method === 'POST' && (m = rest.match(/^actions\/runs\/(\d+)\/rerun$/))) {
    const run = fake.workflowRuns.find((candidate) => candidate.id === Number(m![1]));
    if (!run) return missing();
    // A re-run is the next attempt of the same run id (GITHUB_RUN_ATTEMPT in the runner).
    run.run_attempt = (run.run_attempt ?? 1) + 1;
    fake.reruns.push(run.id);
    return done(201, {});
  }
  return false;
}

export function handleOrgRoute(fake: FakeGitHub, path: string, response: ServerResponse): boolean {
  const m = path.match(/^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/);
  if (!m) return false;
  const members = fake.teams.get(`${m[1]}/${m[2]}`.toLowerCase()) ?? [];
  if (!members.some((login) => login.toLowerCase() === m[3]!.toLowerCase())) return (notFound(response), true);
  send(response, 200, { state: 'active', role: 'member' });
  return true;
}

function newComment(fake: FakeGitHub, issue: number, body: string, caller: 'app' | 'workflow', fullName: string) {
  const id = fake.nextId++;
  const app = caller === 'app' ? fake.app : undefined;
  return {
    id,
    issue_number: issue,
    body,
    user: app ? { login: `${app.slug}[bot]`, type: 'Bot' } : { login: 'github-actions[bot]', type: 'Bot' },
    performed_via_github_app: app ? { id: app.id, slug: app.slug } : { id: 15368, slug: 'github-actions' },
    html_url: `https://github.com/${fullName}/pull/${issue}#issuecomment-${id}`,
  };
}

const publicRun = (run: { id: number; head_sha: string; check_suite_id: number }) => ({
  run_attempt: 1,
  html_url: `https://github.com/Codertocat/Hello-World/actions/runs/${run.id}`,
  ...run,
  name: 'quality',
  status: 'completed',
  conclusion: 'failure',
  event: 'pull_request',
});
