import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { buildComplianceReport, renderComplianceReport, runChain, verifyStoredChains } from '../governance/index.js';
import { checkPolicyText } from '../policy/load-policy.js';
import type { ConflictStatus } from '../store/types.js';
import { explainMetric } from './explain-metric.js';
import { authorize, refuse, type McpContext } from './mcp-context.js';
import { McpScope } from './mcp-principal.js';
import { summarizeRun } from './run-summary.js';
import { jsonResult, RefusalCode } from './tool-refusal.js';

/** Every read tool only reads the store (or its input): clients may call them without asking the user. */
const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

const project = z
  .string()
  .regex(/^[\w.-]+\/[\w.-]+$/, 'OWNER/NAME, e.g. octo-org/app (local runs: local/<folder>)')
  .describe('The repository, OWNER/NAME as the store files it (runs without a git remote: local/<folder name>).');
const runId = z.string().min(1).max(300).describe('A run id from list_runs.');
/** `2025-01-31` is midnight UTC; anything else must be a full ISO-8601 time (as `qf report` takes them). */
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T.+)?$/, 'a date like 2025-01-31 or 2025-01-31T12:00:00Z')
  .transform((value, ctx) => {
    const ms = Date.parse(value.length === 10 ? `${value}T00:00:00.000Z` : value);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a valid date` });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });
const CONFLICT_STATUSES = ['open', 'retrying', 'escalated', 'resolved', 'satisfied'] as const satisfies readonly ConflictStatus[];

/** The read tools: list runs, a run's summary, conflicts, a run's audit trail, compliance reports, policy validation, metrics. */
export function registerReadTools(server: McpServer, context: McpContext): void {
  const { store } = context;
  const gate = (tool: string, projectId: string | null, extra: Parameters<typeof authorize>[1]) => authorize(context, extra, tool, McpScope.read, projectId);

  server.registerTool(
    'list_runs',
    {
      title: 'List runs',
      description: "The gate's recorded runs of a repository, newest first: id, verdict, head commit, times.",
      inputSchema: { project, limit: z.number().int().min(1).max(500).default(50).describe('Most runs returned.') },
      annotations: READ_ONLY,
    },
    async ({ project: projectId, limit }, extra) => {
      const caller = await gate('list_runs', projectId, extra);
      if ('refused' in caller) return caller.refused;
      const runs = (await store.listRuns(projectId)).reverse();
      return jsonResult({
        project: projectId,
        total: runs.length,
        runs: runs.slice(0, limit).map((run) => ({
          id: run.id,
          verdict: run.verdict,
          startedAt: run.startedAt,
          finishedAt: run.finishedAt,
          headSha: run.headSha,
          mode: run.mode,
        })),
      });
    },
  );

  server.registerTool(
    'get_run_summary',
    {
      title: 'Run summary',
      description: 'What a run decided: verdict, the failed gate rules (observed vs expected), the failed tests with file:line, each step.',
      inputSchema: { runId },
      annotations: READ_ONLY,
    },
    async ({ runId: id }, extra) => {
      const run = await store.getRun(id);
      const caller = await gate('get_run_summary', run?.projectId ?? null, extra);
      if ('refused' in caller) return caller.refused;
      if (!run)
        return refuse(context, null, {
          code: RefusalCode.notFound,
          tool: 'get_run_summary',
          caller: caller.principal.id,
          reason: `no run "${id}" in the store`,
        });
      return jsonResult(await summarizeRun(run));
    },
  );

  server.registerTool(
    'list_conflicts',
    {
      title: 'List conflicts',
      description: 'PSMP conflicts of a repository (results that disagree across runs or shards), with status and resolutions.',
      inputSchema: { project, status: z.array(z.enum(CONFLICT_STATUSES)).optional().describe('Only conflicts in these states; all when absent.') },
      annotations: READ_ONLY,
    },
    async ({ project: projectId, status }, extra) => {
      const caller = await gate('list_conflicts', projectId, extra);
      if ('refused' in caller) return caller.refused;
      const conflicts = await store.listConflicts(projectId, status);
      return jsonResult({ project: projectId, conflicts });
    },
  );

  server.registerTool(
    'get_audit_trail',
    {
      title: 'Audit trail of a run',
      description: "A run's hash-chained audit events, oldest first, and whether the stored chain still verifies.",
      inputSchema: { runId, limit: z.number().int().min(1).max(5000).default(1000).describe('Most events returned (oldest first).') },
      annotations: READ_ONLY,
    },
    async ({ runId: id, limit }, extra) => {
      const run = await store.getRun(id);
      const caller = await gate('get_audit_trail', run?.projectId ?? null, extra);
      if ('refused' in caller) return caller.refused;
      if (!run)
        return refuse(context, null, {
          code: RefusalCode.notFound,
          tool: 'get_audit_trail',
          caller: caller.principal.id,
          reason: `no run "${id}" in the store`,
        });
      const chain = runChain(id);
      const events = await store.listAudit({ chain, limit });
      const verification = await verifyStoredChains(store, chain);
      const checked = verification.chains[0];
      return jsonResult({
        runId: id,
        chain,
        verified: verification.ok,
        ...(checked && !checked.ok ? { brokenAt: checked.brokenSeq, problem: checked.reason } : {}),
        total: checked?.count ?? events.length,
        events: events.map(({ seq, at, actor, action, subject, data, hash }) => ({ seq, at, actor, action, subject, data, hash })),
      });
    },
  );

  server.registerTool(
    'get_compliance_report',
    {
      title: 'Compliance report',
      description:
        'The compliance report of a repository over a period (approvals, vetoes, gate decisions, overrides, escalations, chain integrity), as qf report writes it.',
      inputSchema: {
        project,
        since: date.describe('Start of the period (inclusive), e.g. 2025-01-01.'),
        until: date.optional().describe('End of the period (exclusive); now when absent.'),
        format: z.enum(['json', 'md', 'csv']).default('json'),
      },
      annotations: READ_ONLY,
    },
    async ({ project: projectId, since, until, format }, extra) => {
      const caller = await gate('get_compliance_report', projectId, extra);
      if ('refused' in caller) return caller.refused;
      const now = context.clock();
      const end = until ?? now.toISOString();
      if (end <= since)
        return refuse(context, projectId, {
          code: RefusalCode.badInput,
          tool: 'get_compliance_report',
          caller: caller.principal.id,
          reason: `until (${end}) is not after since (${since})`,
        });
      const report = await buildComplianceReport(store, { repo: projectId, since, until: end, now });
      if (format === 'json') return jsonResult(report as unknown as Record<string, unknown>);
      return { content: [{ type: 'text', text: renderComplianceReport(report, format) }] };
    },
  );

  server.registerTool(
    'validate_policy',
    {
      title: 'Validate a policy',
      description: 'Checks a QualityFoundry policy (YAML text) exactly as qf validate does: every problem with line, column, data path and what was expected.',
      inputSchema: {
        text: z.string().max(1_048_576).describe('The policy file content.'),
        path: z.string().min(1).max(500).default('.github/qualityfoundry.yml').describe('The file name problems are reported under.'),
      },
      annotations: READ_ONLY,
    },
    async ({ text, path }, extra) => {
      const caller = await gate('validate_policy', null, extra);
      if ('refused' in caller) return caller.refused;
      const checked = checkPolicyText(text, { path, sourceRef: null });
      if (checked.ok) {
        const { policy } = checked.policy;
        return jsonResult({
          valid: true,
          mode: policy.mode,
          planRules: policy.plan.length,
          gateRules: policy.gate.length,
          sha256: checked.policy.sha256,
          problems: [],
        });
      }
      return jsonResult({ valid: false, message: checked.message, problems: checked.problems });
    },
  );

  server.registerTool(
    'explain_metric',
    {
      title: 'Explain a metric',
      description: 'What a gate metric (e.g. pytest.failed) measures, which tool publishes it, and whether gate rules may use it.',
      inputSchema: { metric: z.string().min(1).max(200).describe('A metric name, e.g. pytest.pass_rate or command.lint.exit_code.') },
      annotations: READ_ONLY,
    },
    async ({ metric }, extra) => {
      const caller = await gate('explain_metric', null, extra);
      if ('refused' in caller) return caller.refused;
      return jsonResult(explainMetric(metric));
    },
  );
}
