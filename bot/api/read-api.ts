import swagger from '@fastify/swagger';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import * as z from 'zod';
import { isQfError } from '../../src/errors.js';
import { runChain, verifyStoredChains } from '../../src/governance/index.js';
import type { StorageBackend } from '../../src/store/index.js';
import { buildRepositoryReport, renderRepositoryReport } from '../report/build-repository-report.js';
import { pullSubject } from '../review/status-comment.js';
import * as S from './api-schemas.js';
import type { ApiTokenTable } from './api-tokens.js';
import { BadParameter, decodeCursor, sendPage } from './paginate.js';
import { type ApiErrorBody, requireBearer } from './require-bearer.js';

export const API_PREFIX = '/api/v1';

export interface ReadApiOptions {
  store: StorageBackend;
  tokens: ApiTokenTable;
  clock: () => Date;
  /** QF_PUBLIC_URL: the base of Link headers when set (behind a proxy the request's host may be internal). */
  publicUrl: string | null;
  /** The bot's version, for the OpenAPI description. */
  version: string;
}

const EPOCH = '1970-01-01T00:00:00.000Z';
const DAY_MS = 86_400_000;
const isDay = (value: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(value);

/** since/until as the store compares them (ISO UTC): a date is its 00:00 UTC; `until` of a date includes that day. */
function period(query: { since?: string | undefined; until?: string | undefined }): { since?: string; until?: string } {
  const since = query.since === undefined ? undefined : new Date(isDay(query.since) ? `${query.since}T00:00:00.000Z` : query.since).toISOString();
  const until =
    query.until === undefined
      ? undefined
      : isDay(query.until)
        ? new Date(Date.parse(`${query.until}T00:00:00.000Z`) + DAY_MS).toISOString()
        : new Date(query.until).toISOString();
  if (since !== undefined && until !== undefined && since >= until)
    throw new BadParameter('until', `until (${query.until}) is not after since (${query.since})`);
  return { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
}

function apiError(reply: FastifyReply, body: ApiErrorBody): FastifyReply {
  return reply.code(body.status).type('application/json; charset=utf-8').send(body);
}

const notFound = (reply: FastifyReply, message: string): FastifyReply => apiError(reply, { status: 404, error: 'not_found', message });

/**
 * The read-only HTTP API under /api/v1: every route needs a Bearer token with the `read` scope,
 * validates its parameters with zod (400 names the parameter), pages with keyset cursors and
 * GitHub-style Link headers, and is described by /api/v1/openapi.json generated from the same schemas.
 */
export async function readApi(parent: FastifyInstance, options: ReadApiOptions): Promise<void> {
  const { store, clock, publicUrl } = options;
  await parent.register(
    async (scoped) => {
      scoped.setValidatorCompiler(validatorCompiler);
      scoped.setSerializerCompiler(serializerCompiler);
      await scoped.register(swagger, {
        openapi: {
          openapi: '3.1.0',
          info: { title: 'QualityFoundry bot API', version: options.version, description: 'Read-only access to the durable record of the QualityFoundry bot.' },
          servers: publicUrl ? [{ url: publicUrl }] : [],
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
          security: [{ bearer: [] }],
        },
        transform: jsonSchemaTransform,
        transformObject: jsonSchemaTransformObject,
      });
      scoped.setErrorHandler((error: FastifyError, _request, reply) => {
        if (hasZodFastifySchemaValidationErrors(error)) {
          const issue = error.validation[0]!;
          const parameter = issue.instancePath.replace(/^\//, '').split('/')[0] || String(error.validationContext ?? 'request');
          return apiError(reply, { status: 400, error: 'bad_parameter', parameter, message: `${parameter}: ${issue.message}` });
        }
        if (error instanceof BadParameter)
          return apiError(reply, { status: 400, error: 'bad_parameter', parameter: error.parameter, message: `${error.parameter}: ${error.message}` });
        // The store refuses a cursor of another list's shape (its keyset has another number of values).
        if (isQfError(error, 'BAD_INPUT'))
          return apiError(reply, { status: 400, error: 'bad_parameter', parameter: 'after', message: `after: not a cursor of this list (${error.message})` });
        scoped.log.error({ err: error }, 'api: request failed');
        return apiError(reply, { status: 500, error: 'internal', message: 'the request failed; see the bot log' });
      });

      const read = requireBearer(options.tokens, 'read');
      const api = scoped.withTypeProvider<ZodTypeProvider>();
      const errors = { 400: S.ApiError, 401: S.ApiError, 403: S.ApiError, 404: S.ApiError };
      scoped.setNotFoundHandler({ preHandler: read }, (request, reply) => notFound(reply, `no API route ${request.method} ${request.url.split('?')[0]}`));

      api.get('/openapi.json', { schema: { hide: true } }, async () => scoped.swagger());

      const projectOf = async (params: { owner: string; repo: string }, reply: FastifyReply): Promise<string | null> => {
        const id = `${params.owner}/${params.repo}`;
        if (await store.getProject(id)) return id;
        notFound(reply, `no project ${id} in the record`);
        return null;
      };

      api.get(
        '/projects',
        {
          preHandler: read,
          schema: { summary: 'Projects (repositories) in the record', querystring: S.PageQuery, response: { 200: z.array(S.Project), ...errors } },
        },
        async (request, reply) => {
          const page = await store.listPage({ of: 'projects' }, pageOf(request.query));
          return sendPage(request, reply, page, publicUrl);
        },
      );

      api.get(
        '/projects/:owner/:repo',
        { preHandler: read, schema: { summary: 'One project', params: S.ProjectParams, response: { 200: S.Project, ...errors } } },
        async (request, reply) => {
          const project = await store.getProject(`${request.params.owner}/${request.params.repo}`);
          return project ?? notFound(reply, `no project ${request.params.owner}/${request.params.repo} in the record`);
        },
      );

      api.get(
        '/projects/:owner/:repo/runs',
        {
          preHandler: read,
          schema: { summary: 'Runs, newest first', params: S.ProjectParams, querystring: S.RunsQuery, response: { 200: z.array(S.Run), ...errors } },
        },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          const { verdict, head_sha, branch } = request.query;
          const page = await store.listPage({ of: 'runs', projectId, verdict, headSha: head_sha?.toLowerCase(), branch }, pageOf(request.query));
          return sendPage(request, reply, page, publicUrl);
        },
      );

      api.get(
        '/projects/:owner/:repo/timings',
        {
          preHandler: read,
          schema: {
            summary: "Each test's duration in the newest run pushed to a branch: the timing history that balances the Action's shards",
            params: S.ProjectParams,
            querystring: S.TimingsQuery,
            response: { 200: S.Timings, ...errors },
          },
        },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          const { branch } = request.query;
          const durations = await store.latestTestDurations(projectId, branch);
          if (!durations) return notFound(reply, `no run pushed to ${branch} in ${projectId} recorded test results`);
          return { runId: durations.runId, headSha: durations.headSha, startedAt: durations.startedAt, tests: Object.fromEntries(durations.seconds) };
        },
      );

      api.get(
        '/projects/:owner/:repo/runs/:run_id',
        { preHandler: read, schema: { summary: 'One run', params: S.RunParams, response: { 200: S.Run, ...errors } } },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          const run = await store.getRun(request.params.run_id);
          return run && run.projectId === projectId ? run : notFound(reply, `no run ${request.params.run_id} in ${projectId}`);
        },
      );

      api.get(
        '/projects/:owner/:repo/runs/:run_id/evidence',
        {
          preHandler: read,
          schema: {
            summary: "A run's evidence as ingested: the run, its audit trail (verified), its PSMP artifacts",
            params: S.RunParams,
            response: { 200: S.RunEvidence, ...errors },
          },
        },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          const run = await store.getRun(request.params.run_id);
          if (!run || run.projectId !== projectId) return notFound(reply, `no run ${request.params.run_id} in ${projectId}`);
          const chain = runChain(run.id);
          const [audit, verification, artifacts] = await Promise.all([
            store.listAudit({ chain }),
            verifyStoredChains(store, chain),
            store.listPage({ of: 'artifacts', projectId, runId: run.id }, { limit: 10_000 }),
          ]);
          return { run, audit, chain: verification.chains[0]!, artifacts: artifacts.items };
        },
      );

      api.get(
        '/projects/:owner/:repo/artifacts',
        {
          preHandler: read,
          schema: {
            summary: 'PSMP artifacts, newest first',
            params: S.ProjectParams,
            querystring: S.ArtifactsQuery,
            response: { 200: z.array(S.Artifact), ...errors },
          },
        },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          const { run_id, type } = request.query;
          return sendPage(request, reply, await store.listPage({ of: 'artifacts', projectId, runId: run_id, type }, pageOf(request.query)), publicUrl);
        },
      );

      api.get(
        '/projects/:owner/:repo/conflicts',
        {
          preHandler: read,
          schema: {
            summary: 'Conflicts, newest first',
            params: S.ProjectParams,
            querystring: S.ConflictsQuery,
            response: { 200: z.array(S.Conflict), ...errors },
          },
        },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          return sendPage(request, reply, await store.listPage({ of: 'conflicts', projectId, status: request.query.status }, pageOf(request.query)), publicUrl);
        },
      );

      api.get(
        '/projects/:owner/:repo/approvals',
        {
          preHandler: read,
          schema: {
            summary: 'Approvals, newest first',
            params: S.ProjectParams,
            querystring: S.ApprovalsQuery,
            response: { 200: z.array(S.Approval), ...errors },
          },
        },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          return sendPage(request, reply, await store.listPage({ of: 'approvals', projectId, ...period(request.query) }, pageOf(request.query)), publicUrl);
        },
      );

      api.get(
        '/projects/:owner/:repo/checkpoints',
        {
          preHandler: read,
          schema: {
            summary: 'Checkpoints, newest first',
            params: S.ProjectParams,
            querystring: S.PageQuery,
            response: { 200: z.array(S.Checkpoint), ...errors },
          },
        },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          return sendPage(request, reply, await store.listPage({ of: 'checkpoints', projectId }, pageOf(request.query)), publicUrl);
        },
      );

      const auditFilters = (query: z.infer<typeof S.AuditQuery>) => ({ chain: query.chain, action: query.action, actor: query.actor, ...period(query) });

      api.get(
        '/projects/:owner/:repo/audit-events',
        {
          preHandler: read,
          schema: {
            summary: "Audit events of the project's chains, in chain order",
            params: S.ProjectParams,
            querystring: S.AuditQuery,
            response: { 200: z.array(S.AuditEvent), ...errors },
          },
        },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          return sendPage(request, reply, await store.listPage({ of: 'audit', projectId, ...auditFilters(request.query) }, pageOf(request.query)), publicUrl);
        },
      );

      api.get(
        '/audit-events',
        {
          preHandler: read,
          schema: {
            summary: 'Audit events of every chain (the bot chain too), in chain order',
            querystring: S.AuditQuery,
            response: { 200: z.array(S.AuditEvent), ...errors },
          },
        },
        async (request, reply) =>
          sendPage(request, reply, await store.listPage({ of: 'audit', ...auditFilters(request.query) }, pageOf(request.query)), publicUrl),
      );

      api.get(
        '/projects/:owner/:repo/reports/compliance',
        {
          preHandler: read,
          schema: {
            summary: 'The compliance report, as /qf report builds it',
            params: S.ProjectParams,
            querystring: S.ReportQuery,
            response: { 200: z.union([z.string(), z.record(z.string(), z.unknown())]), ...errors },
          },
        },
        async (request, reply) => {
          const projectId = await projectOf(request.params, reply);
          if (!projectId) return reply;
          const now = clock();
          const range = period(request.query);
          const report = await buildRepositoryReport(store, {
            repo: projectId,
            since: range.since ?? EPOCH,
            until: range.until ?? new Date(now.getTime() + 1).toISOString(),
            now,
            ...(request.query.pull !== undefined ? { pullSubject: pullSubject(projectId, request.query.pull) } : {}),
          });
          const format = request.query.format;
          const type = { json: 'application/json', md: 'text/markdown', csv: 'text/csv' }[format];
          // Sent as text, already rendered: the same bytes renderRepositoryReport gives /qf report.
          return reply
            .type(`${type}; charset=utf-8`)
            .serializer((body: unknown) => String(body))
            .send(renderRepositoryReport(report, format));
        },
      );
    },
    { prefix: API_PREFIX },
  );
}

function pageOf(query: { per_page: number; after?: string | undefined }): { limit: number; after?: (string | number)[] } {
  const after = decodeCursor(query.after);
  return { limit: query.per_page, ...(after ? { after } : {}) };
}
