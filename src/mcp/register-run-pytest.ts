import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { EvidenceFile } from '../constants.js';
import { errorMessage, isQfError } from '../errors.js';
import type { OrchestrateRunOptions } from '../orchestrator/orchestrate.js';
import type { ProgressEvent, RunOutcome } from '../orchestrator/types.js';
import { changedFilesFromGit } from '../planner/changed-files.js';
import { checkPolicyText } from '../policy/load-policy.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import { confineStepPaths } from '../tools/confine-step-paths.js';
import { git } from '../util/git.js';
import { evidenceUri } from './evidence-uri.js';
import { authorize, refuse, type McpContext } from './mcp-context.js';
import { McpScope } from './mcp-principal.js';
import { summarizeRun } from './run-summary.js';
import type { TokenLimits } from './token-limits.js';
import { jsonResult, RefusalCode } from './tool-refusal.js';

export const RUN_PYTEST = 'run_pytest';
/** The id of the one step an MCP run plans. */
export const MCP_STEP_ID = 'mcp-run-pytest';
export const MCP_RUN_STARTED = 'mcp.run_pytest.started';
export const MCP_RUN_FINISHED = 'mcp.run_pytest.finished';

/** Where the trusted policy comes from: never the work tree an agent edits, unless the user says so. */
export type PolicySource = { file: string } | { ref: string; path: string };

export interface PytestRunConfig {
  /** The repository run_pytest runs in (the server serves one). */
  repoDir: string;
  projectId: string;
  policy: PolicySource;
  /** Evidence folders: OUT_ROOT/<run id>/. */
  outRoot: string;
  /** What the policy's env_allowlist picks from (the transport's process environment). */
  env: Record<string, string | undefined>;
  limits: TokenLimits;
  /** orchestrate() with the run recorded in the store, as `qf run --db` records it. */
  run: (options: OrchestrateRunOptions & { runId: string }) => Promise<RunOutcome>;
}

type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const noApprovals = { lookup: async () => ({ approvals: [], rejected: [], notes: [] }) };

/**
 * run_pytest: authentication → permission → (the caller's limits) → policy → sandbox, each
 * refusal its own code and an audit event; then one plan step run by the orchestrator exactly as
 * `qf run` runs it — the policy's sandbox, deadline, environment filter, gate rules, approval and
 * evidence — with progress notifications and cancellation.
 */
export function registerRunPytest(server: McpServer, context: McpContext, config: PytestRunConfig): void {
  server.registerTool(
    RUN_PYTEST,
    {
      title: 'Run the policy’s tests',
      description:
        "Runs pytest in this repository the way CI does: the policy's sandbox, deadline, environment filter and gate rules, evidence written and recorded. Needs the `run` scope, run_pytest in the policy's tools.allowlist, and paths inside the repository.",
      inputSchema: {
        paths: z
          .array(z.string().min(1).max(1000))
          .max(200)
          .default([])
          .describe("Test paths relative to the repository root; empty runs pytest's own discovery."),
        keyword: z.string().min(1).max(1000).optional().describe('A pytest -k expression selecting tests by name.'),
        markers: z.string().min(1).max(1000).optional().describe('A pytest -m expression selecting tests by marker.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (input, extra) => {
      const { projectId } = config;
      const caller = await authorize(context, extra, RUN_PYTEST, McpScope.run, projectId);
      if ('refused' in caller) return caller.refused;
      const who = caller.principal.id;
      const slot = config.limits.acquire(who);
      if (!slot.ok)
        return refuse(context, projectId, {
          code: slot.kind === 'rate' ? RefusalCode.rateLimited : RefusalCode.tooManyRuns,
          tool: RUN_PYTEST,
          caller: who,
          reason: slot.message,
        });
      try {
        const policy = await trustedPolicy(config);
        const policyRefusal = policy.ok ? await refusedByPolicy(config.repoDir, policy.loaded, input.paths) : policy.problem;
        if (policyRefusal || !policy.ok)
          return refuse(context, projectId, { code: RefusalCode.policyRefused, tool: RUN_PYTEST, caller: who, reason: policyRefusal ?? '' });
        return await runTests(context, config, policy.loaded, input, who, extra);
      } finally {
        slot.release();
      }
    },
  );
}

async function trustedPolicy(config: PytestRunConfig): Promise<{ ok: true; loaded: LoadedPolicy } | { ok: false; problem: string }> {
  const source = config.policy;
  let text: string;
  try {
    text = 'file' in source ? await readFile(source.file, 'utf8') : await git(config.repoDir, ['show', `${source.ref}:${source.path}`]);
  } catch (error) {
    return { ok: false, problem: `the policy ${'file' in source ? source.file : `${source.path} at ${source.ref}`} cannot be read: ${errorMessage(error)}` };
  }
  const where = 'file' in source ? { path: source.file, sourceRef: null } : { path: source.path, sourceRef: source.ref };
  const checked = checkPolicyText(text, where);
  return checked.ok
    ? { ok: true, loaded: checked.policy }
    : { ok: false, problem: `the repository's policy is not valid, so nothing runs: ${checked.message}` };
}

/** Why the policy refuses this call, or undefined: the tool must be allowed, every path inside the repository (links followed). */
async function refusedByPolicy(repoDir: string, loaded: LoadedPolicy, paths: readonly string[]): Promise<string | undefined> {
  const { allowlist } = loaded.policy.tools;
  if (!allowlist.includes(RUN_PYTEST))
    return `${RUN_PYTEST} is not in the policy's tools.allowlist (${allowlist.join(', ') || 'empty'}) in ${loaded.path}${loaded.sourceRef ? ` at ${loaded.sourceRef}` : ''}`;
  // pytest reads an argument starting with "-" as an option (`--basetemp=DIR` empties DIR): an agent gives paths, never options.
  const option = paths.find((entry) => entry.startsWith('-'));
  if (option !== undefined) return `test path "${option}" starts with "-": pytest would take it as an option; expected a path inside the repository`;
  return confineStepPaths(repoDir, undefined, paths);
}

async function runTests(
  context: McpContext,
  config: PytestRunConfig,
  loaded: LoadedPolicy,
  input: { paths: string[]; keyword?: string | undefined; markers?: string | undefined },
  who: string,
  extra: ToolExtra,
): Promise<CallToolResult> {
  const runId = randomUUID();
  const outDir = path.join(config.outRoot, runId);
  const args = [...(input.keyword ? ['-k', input.keyword] : []), ...(input.markers ? ['-m', input.markers] : [])];
  // The policy as written, its plan replaced by the one step asked for: the same sandbox, deadline,
  // environment filter, budget, gate rules and approval rule; the evidence records the plan that ran.
  const policy: LoadedPolicy = {
    ...loaded,
    policy: { ...loaded.policy, plan: [{ id: MCP_STEP_ID, when: { always: true }, run: RUN_PYTEST, with: { paths: input.paths, args }, fail_fast: false }] },
  };
  const outRel = path.relative(config.repoDir, config.outRoot);
  const inRepo = outRel !== '' && !outRel.startsWith('..') && !path.isAbsolute(outRel);
  // The change an approval rule looks at: what the work tree holds beyond HEAD.
  const changedFiles = await changedFilesFromGit(config.repoDir, 'HEAD', null, inRepo ? { ignoreUntrackedUnder: outRel.split(path.sep).join('/') } : {});
  await context.audit(config.projectId, { actor: who, action: MCP_RUN_STARTED, subject: runId, data: { paths: input.paths, args } });
  const progress = progressNotifier(extra);
  let outcome: RunOutcome;
  try {
    outcome = await config.run({
      runId,
      repoDir: config.repoDir,
      outDir,
      policy,
      change: { base: 'HEAD', head: null, changedFiles, labels: [] },
      approvals: noApprovals,
      env: config.env,
      onProgress: progress,
      signal: extra.signal,
    });
  } catch (error) {
    if (isQfError(error, 'SANDBOX_UNAVAILABLE'))
      return refuse(context, config.projectId, {
        code: RefusalCode.sandboxUnavailable,
        tool: RUN_PYTEST,
        caller: who,
        reason: `the policy asks for the ${loaded.policy.sandbox.mode} sandbox and it cannot run, so nothing ran (run ${runId}): ${errorMessage(error)}`,
      });
    await context.audit(config.projectId, { actor: who, action: MCP_RUN_FINISHED, subject: runId, data: { error: errorMessage(error) } });
    throw error; // the SDK answers with a tool error carrying the message
  }
  const { evidence } = outcome;
  await context.audit(config.projectId, { actor: who, action: MCP_RUN_FINISHED, subject: runId, data: { verdict: evidence.gate.verdict } });
  const step = evidence.steps[0];
  const summary = await summarizeRun({
    id: runId,
    projectId: config.projectId,
    startedAt: evidence.startedAt,
    finishedAt: evidence.finishedAt,
    mode: evidence.policy.mode,
    verdict: evidence.gate.verdict,
    headSha: null,
    data: { evidencePath: path.join(outDir, EvidenceFile.evidence) },
  });
  return jsonResult({
    runId,
    verdict: evidence.gate.verdict,
    exitCode: outcome.exitCode,
    counts: step?.tests?.counts ?? null,
    status: step?.status ?? null,
    ...(step?.reason ? { reason: step.reason } : {}),
    failedRules: summary.failedRules,
    failures: summary.failedTests ?? [],
    failuresOmitted: summary.failedTestsOmitted,
    reasons: evidence.gate.reasons,
    ...(evidence.gate.verdict === 'needs_approval'
      ? { approval: `the policy asks for an approval of plan ${evidence.plan.planHash} first (qf run --approve)` }
      : {}),
    evidenceUri: evidenceUri(runId),
    evidencePath: outcome.evidencePath,
  });
}

/** Progress notifications when the client asked for them (a progressToken): the step's start, its output as it runs, its end. */
function progressNotifier(extra: ToolExtra): ((event: ProgressEvent) => void) | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let progress = 0;
  let lastOutput = 0;
  const send = (message: string) => {
    progress++;
    extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, message } }).catch(() => undefined);
  };
  return (event) => {
    if (event.kind === 'step-started') send(`${event.stepId}: pytest started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`);
    else if (event.kind === 'step-output' && event.elapsedMs - lastOutput >= 1000) {
      lastOutput = event.elapsedMs;
      send(`${event.stepId}: running, ${Math.round(event.elapsedMs / 1000)} s`);
    } else if (event.kind === 'step-finished') send(`${event.stepId}: ${event.status} in ${(event.durationMs / 1000).toFixed(1)} s`);
  };
}
