import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StorageBackend } from '../../src/store/index.js';
import { type ApiTokenTable, hasScope, verifyBearerToken } from '../api/api-tokens.js';
import { DASHBOARD_PATH, projectPath, runIdOfKey } from './dashboard-links.js';
import { type DashboardSession, DashboardSessions, SESSION_IDLE_MS } from './dashboard-sessions.js';
import { html } from './html.js';
import { loadOverview } from './load-overview.js';
import { loadRun } from './load-run.js';
import { loadTestStats } from './load-test-stats.js';
import { renderLayout } from './render-layout.js';
import { renderLogin } from './render-login.js';
import { renderOverview } from './render-overview.js';
import { renderRun } from './render-run.js';
import { renderTestHistory, renderTests } from './render-tests.js';
import type { ChainStatusSource } from './start-chain-verifier.js';

export interface DashboardOptions {
  store: StorageBackend;
  /** The HTTP API's tokens: the login form takes one of them (scope `read`). */
  apiTokens: ApiTokenTable;
  /** QF_PUBLIC_URL: an https URL means TLS ends in front of the bot, so the cookie is Secure. */
  publicUrl: string | null;
  sessions?: DashboardSessions;
  /** The audit chains' latest background verification (startChainVerifier): the overview never verifies. */
  chains: ChainStatusSource;
}

const COOKIE = 'qf_dashboard';
/** No inline script or style, nothing from elsewhere, no framing, forms only to ourselves. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const here = path.dirname(fileURLToPath(import.meta.url));
const chartJsDir = path.dirname(createRequire(import.meta.url).resolve('chart.js'));
/** The only files the assets route serves: bundled with the bot, never fetched from a CDN. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'chart.umd.min.js': { file: path.join(chartJsDir, 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.js': { file: path.join(here, 'assets', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: path.join(here, 'assets', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: path.join(here, 'assets', 'favicon.svg'), type: 'image/svg+xml' },
};

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the dashboard's session check. */
    dashboardSession?: DashboardSession;
  }
}

/**
 * The dashboard: server-rendered pages under /dashboard (tables readable without JavaScript, charts drawn
 * by the bundled Chart.js), behind a login form that takes an API token and sets an opaque session
 * cookie. Registered as its own encapsulated plugin, so its body parser and hooks touch no other route.
 */
export async function dashboardPlugin(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const { store, apiTokens } = options;
  const sessions = options.sessions ?? new DashboardSessions();
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'same-origin');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  const publicOrigin = options.publicUrl ? new URL(options.publicUrl).origin : null;
  const secure = (request: FastifyRequest): boolean => request.protocol === 'https' || (options.publicUrl?.startsWith('https:') ?? false);
  const page = (reply: FastifyReply, status: number, body: string): FastifyReply => reply.code(status).type('text/html; charset=utf-8').send(body);

  /**
   * Cross-site POSTs are refused before anything else: a browser names the page that sent the form in
   * Origin (and Sec-Fetch-Site); both must be this server. SameSite=Strict already keeps the cookie off
   * cross-site requests; this also stops login CSRF (logging a victim into the attacker's token).
   */
  function sameOrigin(request: FastifyRequest): boolean {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return false;
    const origin = request.headers.origin;
    if (origin === undefined) return site === 'same-origin';
    // Behind a proxy that ends TLS the browser's origin is the public URL's, not the one the bot sees.
    return origin === `${request.protocol}://${request.headers.host}` || origin === publicOrigin;
  }

  async function requireSession(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const session = sessions.get(request.cookies[COOKIE]);
    if (session) {
      request.dashboardSession = session;
      return undefined;
    }
    if (request.method === 'GET') return reply.redirect(`${DASHBOARD_PATH}/login?next=${encodeURIComponent(request.url)}`, 303);
    return page(reply, 403, renderLayout({ title: 'Not logged in' }, html`<p>Log in first.</p>`));
  }

  const layout = (request: FastifyRequest, title: string, projectId?: string, charts = false) => ({
    title,
    charts,
    ...(projectId ? { projectId } : {}),
    ...(request.dashboardSession ? { session: { name: request.dashboardSession.identity.name, csrf: request.dashboardSession.csrf } } : {}),
  });

  app.get('/assets/:name', async (request, reply) => {
    const asset = ASSETS[(request.params as { name: string }).name];
    if (!asset) return reply.code(404).type('text/plain').send('not found');
    return reply
      .type(asset.type)
      .header('cache-control', 'public, max-age=3600')
      .send(await readFile(asset.file));
  });

  app.get('/login', async (request, reply) => {
    const next = safeNext((request.query as { next?: unknown }).next);
    return page(reply, 200, renderLayout({ title: 'Log in' }, renderLogin(next)));
  });

  app.post('/login', async (request, reply) => {
    if (!sameOrigin(request)) return page(reply, 403, renderLayout({ title: 'Refused' }, html`<p>Cross-site form submissions are refused.</p>`));
    const body = (request.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const verified = verifyBearerToken(apiTokens, `Bearer ${token}`);
    if (!verified.ok || !hasScope(verified, 'read')) {
      const message = verified.ok ? `the token "${verified.name}" lacks the scope "read"` : 'That token is not valid.';
      request.log.warn({ remote: request.ip }, 'dashboard: login refused');
      return page(reply, 401, renderLayout({ title: 'Log in' }, renderLogin(next, message)));
    }
    const { id } = sessions.create({ name: verified.name, scopes: verified.scopes });
    reply.setCookie(COOKIE, id, {
      path: DASHBOARD_PATH,
      httpOnly: true,
      sameSite: 'strict',
      secure: secure(request),
      maxAge: Math.floor(SESSION_IDLE_MS / 1000),
    });
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (request, reply) => {
    if (!sameOrigin(request)) return page(reply, 403, renderLayout({ title: 'Refused' }, html`<p>Cross-site form submissions are refused.</p>`));
    const id = request.cookies[COOKIE];
    const session = sessions.get(id);
    const csrf = (request.body as Record<string, unknown> | undefined)?.csrf;
    if (session && !(typeof csrf === 'string' && equalText(csrf, session.csrf))) {
      return page(reply, 403, renderLayout({ title: 'Refused' }, html`<p>The form is stale; reload the page and log out again.</p>`));
    }
    sessions.delete(id);
    reply.clearCookie(COOKIE, { path: DASHBOARD_PATH, httpOnly: true, sameSite: 'strict', secure: secure(request) });
    return reply.redirect(`${DASHBOARD_PATH}/login`, 303);
  });

  // Every page below needs a session.
  await app.register(async (pages) => {
    pages.addHook('preHandler', requireSession);

    pages.get('/', async (request, reply) => {
      const projects = await store.listProjects();
      return page(
        reply,
        200,
        renderLayout(
          layout(request, 'Repositories'),
          html`<table id="projects-table"><thead><tr><th>Repository</th></tr></thead><tbody>${projects.map(
            (p) => html`<tr><td><a href="${projectPath(p.id)}">${p.id}</a></td></tr>`,
          )}</tbody></table>`,
        ),
      );
    });

    pages.get('/:owner/:repo', async (request, reply) => {
      const projectId = await knownProject(request);
      if (!projectId) return notFound(request, reply);
      const overview = await loadOverview(store, projectId, options.chains);
      return page(reply, 200, renderLayout(layout(request, projectId, projectId, true), renderOverview(overview)));
    });

    pages.get('/:owner/:repo/runs/:run', async (request, reply) => {
      const projectId = await knownProject(request);
      if (!projectId) return notFound(request, reply);
      const runId = runIdOfKey(projectId, (request.params as { run: string }).run);
      const view = await loadRun(store, projectId, runId);
      if (!view) return notFound(request, reply);
      return page(reply, 200, renderLayout(layout(request, `Run ${runId}`, projectId, true), renderRun(view)));
    });

    pages.get('/:owner/:repo/tests', async (request, reply) => {
      const projectId = await knownProject(request);
      if (!projectId) return notFound(request, reply);
      const stats = await loadTestStats(store, projectId);
      return page(reply, 200, renderLayout(layout(request, `Tests of ${projectId}`, projectId, true), renderTests(projectId, stats)));
    });

    pages.get('/:owner/:repo/tests/history', async (request, reply) => {
      const projectId = await knownProject(request);
      const testId = (request.query as { id?: unknown }).id;
      if (!projectId || typeof testId !== 'string' || testId === '') return notFound(request, reply);
      const rows = await store.listTestResults({ projectId, testId, limit: 100 });
      if (rows.length === 0) return notFound(request, reply);
      return page(reply, 200, renderLayout(layout(request, testId, projectId, true), renderTestHistory(projectId, rows)));
    });
  });

  async function knownProject(request: FastifyRequest): Promise<string | undefined> {
    const { owner, repo } = request.params as { owner: string; repo: string };
    const projectId = `${owner}/${repo}`;
    return (await store.getProject(projectId)) ? projectId : undefined;
  }

  function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    return page(reply, 404, renderLayout(layout(request, 'Not found'), html`<p>Nothing here.</p>`));
  }
}

/** Where to go after logging in: only a path of the dashboard itself (never another site). */
function safeNext(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith(`${DASHBOARD_PATH}/`) || value.startsWith('//') || /[\\\r\n]/.test(value)) return `${DASHBOARD_PATH}/`;
  return value;
}

function equalText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
