import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeArtifactService } from './fake-artifact-service.js';
import { type FakeHookDelivery, handleAppRoute } from './fake-github-app-routes.js';
import { handleOrgRoute, handleReviewRoute, verifyAppJwt, type FakeApp } from './fake-github-review-routes.js';

/**
 * A local fake of the parts of GitHub's REST API the Action uses, with GitHub's own validation where it
 * matters to us (50 annotations per request, 65535-byte output fields, required fields), pagination by
 * Link headers, 404 bodies, and injectable faults (5xx, 429, a read-only token's 403).
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface FakeCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  external_id: string | null;
  details_url: string | null;
  app: { slug: string; id?: number };
  check_suite?: { id: number };
  output: { title: string | null; summary: string | null; text: string | null; annotations_count: number };
  annotations: Array<Record<string, unknown>>;
  started_at: string;
  completed_at: string | null;
}

export interface Fault {
  method: string;
  path: RegExp;
  status: number;
  /** How many matching requests fail; Infinity: all of them. */
  times: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface PullRequestSeed {
  number: number;
  head: { sha: string; ref: string; owner: string };
  base: { sha: string; ref: string };
  files: Array<{ filename: string; status?: string; previous_filename?: string }>;
  /** The author's login (default `Codertocat`, the examples' author). */
  author?: string;
  /** The commits' author logins (default: one commit by the author, on the head). */
  commits?: Array<{ sha: string; author: string }>;
  state?: 'open' | 'closed';
}

export interface FakeComment {
  id: number;
  issue_number: number;
  body: string;
  user: { login: string; type: string };
  performed_via_github_app: { id: number; slug: string } | null;
  html_url: string;
}

export interface FakeWorkflowRun {
  id: number;
  head_sha: string;
  check_suite_id: number;
  /** 1 unless the test re-ran it. */
  run_attempt?: number;
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

export class FakeGitHub {
  readonly requests: RecordedRequest[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  readonly faults: Fault[] = [];
  /** `${ref}:${path}` → file text. */
  readonly contents = new Map<string, string>();
  readonly pulls: PullRequestSeed[] = [];
  /** A read-only token (a fork's pull request): every write to the checks API answers 403. */
  readOnly = false;
  /** The app slug check runs created through this API get (the workflow token's app). */
  tokenApp = 'github-actions';
  /** The workflow run the Action's process belongs to: its check runs go into that run's check suite. */
  currentRunId: number | null = null;
  readonly workflowRuns: FakeWorkflowRun[] = [];
  /** Workflow run ids asked to re-run, in order. */
  readonly reruns: number[] = [];
  readonly comments: FakeComment[] = [];
  readonly reactions: Array<{ commentId: number; content: string; by: string }> = [];
  /** login → role (`read`, `triage`, `write`, `maintain`, `admin`); absent: not a collaborator (404). */
  readonly permissions = new Map<string, string>();
  /** `org/slug` → member logins. */
  readonly teams = new Map<string, string[]>();
  /** The app's webhook delivery log (`GET /app/hook/deliveries`), and the attempt ids asked to redeliver. */
  readonly hookDeliveries: FakeHookDelivery[] = [];
  readonly redeliveryRequests: number[] = [];
  /** Called after a redelivery request was answered: a test delivers the webhook again from here. */
  onRedeliver: ((delivery: FakeHookDelivery) => Promise<void>) | undefined;
  /** The GitHub App that installation tokens belong to (the bot), when one is configured. */
  readonly app: FakeApp | undefined;
  #nextCheckRunId = 1000;
  nextId = 5000;
  #onFirstRequest: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly artifacts: FakeArtifactService | undefined,
    private readonly token: string,
    app: FakeApp | undefined,
  ) {
    this.app = app;
  }

  static async start(options: { token: string; artifacts?: FakeArtifactService; app?: FakeApp }): Promise<FakeGitHub> {
    let fake: FakeGitHub | undefined;
    const server = createServer((request, response) => {
      void fake!.#handle(request, response).catch((error: unknown) => send(response, 500, { message: String(error) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeGitHub(server, `http://127.0.0.1:${port}`, options.artifacts, options.token, options.app);
    return fake;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves at the first request that reaches the fake (for the cold-start benchmark). */
  firstRequest(): Promise<number> {
    return new Promise((resolve) => this.#onFirstRequest.push(() => resolve(performance.now())));
  }

  /** Seeds a check run as if another app (e.g. the bot) had created it. */
  seedCheckRun(run: Partial<FakeCheckRun> & { name: string; head_sha: string; app: { slug: string } }): FakeCheckRun {
    const stored: FakeCheckRun = {
      id: this.#nextCheckRunId++,
      status: 'completed',
      conclusion: 'success',
      external_id: null,
      details_url: null,
      output: { title: null, summary: null, text: null, annotations_count: 0 },
      annotations: [],
      started_at: '2024-01-01T00:00:00Z',
      completed_at: '2024-01-01T00:00:01Z',
      ...run,
    };
    this.checkRuns.push(stored);
    return stored;
  }

  /** The check suite of a workflow run (registered on first use), as GitHub Actions makes one per run. */
  suiteOf(headSha: string, runId: number): number {
    let run = this.workflowRuns.find((candidate) => candidate.id === runId);
    if (!run) {
      run = { id: runId, head_sha: headSha, check_suite_id: runId + 7_000_000 };
      this.workflowRuns.push(run);
    }
    return run.check_suite_id;
  }

  /** Requests, without the ones the test did not ask about (GETs of contents, for instance, when filtered). */
  writes(): RecordedRequest[] {
    return this.requests.filter((request) => WRITE_METHODS.has(request.method));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const resolve of this.#onFirstRequest.splice(0)) resolve();
    const url = new URL(request.url ?? '/', this.url);
    // GitHub Enterprise Server serves the same API under /api/v3 (Probot's GHE_HOST).
    url.pathname = url.pathname.replace(/^\/api\/v3(?=\/)/, '');
    const raw = await readBody(request);
    const body: unknown = raw.length ? JSON.parse(raw) : undefined;
    const method = request.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), body });

    const authorization = request.headers.authorization ?? '';
    const installationTokenRoute = url.pathname.match(/^\/app\/installations\/(\d+)\/access_tokens$/);
    if (installationTokenRoute && method === 'POST' && this.app) {
      // An installation token only for a JWT signed with the app's private key.
      if (!verifyAppJwt(authorization, this.app))
        return send(response, 401, { message: 'A JSON web token could not be decoded', documentation_url: 'https://docs.github.com/rest' });
      return send(response, 201, { token: this.app.installationToken, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {} });
    }
    if (handleAppRoute(this, method, url, authorization, response)) return;
    const caller =
      this.app && (authorization === `token ${this.app.installationToken}` || authorization === `Bearer ${this.app.installationToken}`) ? 'app' : 'workflow';
    if (caller === 'workflow' && authorization !== `token ${this.token}` && authorization !== `Bearer ${this.token}`) {
      return send(response, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    const fault = this.faults.find((candidate) => candidate.method === method && candidate.path.test(url.pathname) && candidate.times > 0);
    if (fault) {
      fault.times -= 1;
      return send(response, fault.status, fault.body ?? { message: `fault ${fault.status}` }, fault.headers);
    }
    if (handleOrgRoute(this, url.pathname, response)) return;
    const route = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/(.*)$/);
    if (!route) return notFound(response);
    const rest = route[3]!;
    let m: RegExpMatchArray | null;

    if (method === 'POST' && rest === 'check-runs') return this.#createCheckRun(body as Record<string, unknown>, response, caller);
    if (handleReviewRoute(this, { method, rest, url, body, response, caller })) return;
    if (method === 'PATCH' && (m = rest.match(/^check-runs\/(\d+)$/))) return this.#updateCheckRun(Number(m[1]), body as Record<string, unknown>, response);
    if (method === 'GET' && (m = rest.match(/^commits\/([^/]+)\/check-runs$/))) {
      const name = url.searchParams.get('check_name');
      const runs = this.checkRuns.filter((run) => run.head_sha === m![1] && (!name || run.name === name));
      const { items } = paginate(runs, url, response);
      return send(response, 200, { total_count: runs.length, check_runs: items.map(publicCheckRun) });
    }
    if (method === 'GET' && (m = rest.match(/^pulls\/(\d+)\/files$/))) {
      const pull = this.pulls.find((candidate) => candidate.number === Number(m![1]));
      if (!pull) return notFound(response);
      const { items } = paginate(pull.files, url, response);
      return send(
        response,
        200,
        items.map((file, index) => ({ sha: `${index}`.padStart(40, '0'), status: 'modified', additions: 1, deletions: 0, changes: 1, ...file })),
      );
    }
    if (method === 'GET' && rest === 'pulls') {
      const head = url.searchParams.get('head');
      const pulls = this.pulls.filter((pull) => !head || head === `${pull.head.owner}:${pull.head.ref}`);
      const { items } = paginate(pulls, url, response);
      return send(
        response,
        200,
        items.map((pull) => ({
          number: pull.number,
          state: pull.state ?? 'open',
          user: { login: pull.author ?? 'Codertocat', type: 'User' },
          head: { sha: pull.head.sha, ref: pull.head.ref, label: `${pull.head.owner}:${pull.head.ref}` },
          base: { sha: pull.base.sha, ref: pull.base.ref },
        })),
      );
    }
    if (method === 'GET' && (m = rest.match(/^contents\/(.+)$/))) {
      const path = decodeURIComponent(m[1]!);
      const text = this.contents.get(`${url.searchParams.get('ref') ?? 'HEAD'}:${path}`);
      if (text === undefined) return notFound(response);
      // The raw media type (Probot's context.config asks for it) returns the file's bytes.
      if ((request.headers.accept ?? '').includes('raw')) {
        response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(text);
        return;
      }
      const content = Buffer.from(text)
        .toString('base64')
        .replace(/(.{60})/g, '$1\n');
      return send(response, 200, {
        type: 'file',
        encoding: 'base64',
        size: Buffer.byteLength(text),
        name: path.split('/').pop(),
        path,
        content,
        sha: 'f'.repeat(40),
      });
    }
    if (method === 'GET' && (m = rest.match(/^actions\/runs\/(\d+)\/artifacts$/))) {
      const name = url.searchParams.get('name');
      const found = (this.artifacts?.artifacts ?? []).filter(
        (artifact) => artifact.finalized && artifact.runId === Number(m![1]) && (!name || artifact.name === name),
      );
      return send(response, 200, {
        total_count: found.length,
        artifacts: found.map((artifact) => ({
          id: artifact.id,
          name: artifact.name,
          size_in_bytes: artifact.size,
          digest: artifact.digest,
          expired: false,
          created_at: '2024-01-01T00:00:00Z',
          workflow_run: { id: artifact.runId },
        })),
      });
    }
    if (method === 'GET' && (m = rest.match(/^actions\/artifacts\/(\d+)\/zip$/))) {
      const artifact = this.artifacts?.artifacts.find((candidate) => candidate.id === Number(m![1]) && candidate.finalized);
      if (!artifact || !this.artifacts) return notFound(response);
      response.writeHead(302, { location: this.artifacts.blobUrl(artifact), 'content-length': 0 });
      response.end();
      return;
    }
    return notFound(response);
  }

  #createCheckRun(body: Record<string, unknown>, response: ServerResponse, caller: 'app' | 'workflow'): void {
    if (this.readOnly)
      return send(response, 403, {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/checks/runs#create-a-check-run',
        status: '403',
      });
    if (typeof body.name !== 'string' || typeof body.head_sha !== 'string') return invalid(response, 'name and head_sha are required');
    const actions = (body.actions as Array<{ label: string; description: string; identifier: string }> | undefined) ?? [];
    if (actions.length > 3 || actions.some((action) => action.label.length > 20 || action.description.length > 40 || action.identifier.length > 20)) {
      return invalid(response, 'actions: at most 3, label ≤ 20, description ≤ 40, identifier ≤ 20 characters');
    }
    const output = body.output as Record<string, unknown> | undefined;
    const problem = validateOutput(output);
    if (problem) return invalid(response, problem);
    const run: FakeCheckRun = {
      id: this.#nextCheckRunId++,
      name: body.name,
      head_sha: body.head_sha,
      status: (body.status as string | undefined) ?? (body.conclusion ? 'completed' : 'queued'),
      conclusion: (body.conclusion as string | undefined) ?? null,
      external_id: (body.external_id as string | undefined) ?? null,
      details_url: (body.details_url as string | undefined) ?? null,
      app: caller === 'app' && this.app ? { slug: this.app.slug, id: this.app.id } : { slug: this.tokenApp, id: 15368 },
      ...(caller === 'workflow' && this.currentRunId !== null ? { check_suite: { id: this.suiteOf(body.head_sha, this.currentRunId) } } : {}),
      output: { title: null, summary: null, text: null, annotations_count: 0 },
      annotations: [],
      started_at: new Date().toISOString(),
      completed_at: body.conclusion ? new Date().toISOString() : null,
    };
    applyOutput(run, output);
    this.checkRuns.push(run);
    send(response, 201, publicCheckRun(run));
  }

  #updateCheckRun(id: number, body: Record<string, unknown>, response: ServerResponse): void {
    if (this.readOnly) return send(response, 403, { message: 'Resource not accessible by integration', status: '403' });
    const run = this.checkRuns.find((candidate) => candidate.id === id);
    if (!run) return notFound(response);
    const output = body.output as Record<string, unknown> | undefined;
    const problem = validateOutput(output);
    if (problem) return invalid(response, problem);
    if (body.conclusion) {
      run.conclusion = body.conclusion as string;
      run.status = 'completed';
      run.completed_at = new Date().toISOString();
    } else if (body.status) run.status = body.status as string;
    applyOutput(run, output);
    send(response, 200, publicCheckRun(run));
  }
}

function validateOutput(output: Record<string, unknown> | undefined): string | null {
  if (!output) return null;
  if (typeof output.title !== 'string' || typeof output.summary !== 'string') return 'output.title and output.summary are required';
  for (const field of ['summary', 'text'] as const) {
    const value = output[field];
    if (typeof value === 'string' && Buffer.byteLength(value) > 65535) return `output.${field} is too long (maximum is 65535 characters)`;
  }
  const annotations = (output.annotations as unknown[] | undefined) ?? [];
  if (annotations.length > 50) return 'Only 50 annotations are allowed per request';
  for (const annotation of annotations as Array<Record<string, unknown>>) {
    if (
      typeof annotation.path !== 'string' ||
      typeof annotation.start_line !== 'number' ||
      typeof annotation.message !== 'string' ||
      !annotation.annotation_level
    )
      return 'annotation is missing required fields';
    if (typeof annotation.title === 'string' && annotation.title.length > 255) return 'annotation title is too long';
    if (Buffer.byteLength(annotation.message as string) > 65536) return 'annotation message is too long';
  }
  return null;
}

function applyOutput(run: FakeCheckRun, output: Record<string, unknown> | undefined): void {
  if (!output) return;
  run.output.title = output.title as string;
  run.output.summary = output.summary as string;
  if (typeof output.text === 'string') run.output.text = output.text;
  const annotations = (output.annotations as Array<Record<string, unknown>> | undefined) ?? [];
  run.annotations.push(...annotations);
  run.output.annotations_count = run.annotations.length;
}

export function publicCheckRun(run: FakeCheckRun) {
  const { annotations: _annotations, ...rest } = run;
  return { ...rest, html_url: `https://github.com/checks/${run.id}`, url: `https://api.github.com/check-runs/${run.id}` };
}

/** GitHub's page/per_page pagination, with the Link header octokit's paginate() follows. */
export function paginate<T>(items: readonly T[], url: URL, response: ServerResponse): { items: T[] } {
  const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
  const page = Number(url.searchParams.get('page') ?? 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  if (page < last) {
    const next = new URL(url);
    next.searchParams.set('page', String(page + 1));
    const lastUrl = new URL(url);
    lastUrl.searchParams.set('page', String(last));
    response.setHeader('link', `<${next.href}>; rel="next", <${lastUrl.href}>; rel="last"`);
  }
  return { items: items.slice((page - 1) * perPage, page * perPage) };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-request-id': 'FAKE', ...headers });
  response.end(JSON.stringify(body));
}

export function notFound(response: ServerResponse): void {
  send(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
}

export function invalid(response: ServerResponse, message: string): void {
  send(response, 422, { message: 'Invalid request.', errors: [message], documentation_url: 'https://docs.github.com/rest/checks/runs', status: '422' });
}
