import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { readApiTokens, verifyBearerToken } from '../../../bot/api/api-tokens.js';
import { DEFAULT_POLICY_PATH, ExitCode } from '../../constants.js';
import { QfError } from '../../errors.js';
import { createMcpServer } from '../../mcp/create-mcp-server.js';
import { jsonRpcLineGuard } from '../../mcp/json-rpc-line-guard.js';
import { fixedIdentity, McpScope, type McpIdentity } from '../../mcp/mcp-principal.js';
import { registerRunPytest, type PolicySource } from '../../mcp/register-run-pytest.js';
import { storeAudit } from '../../mcp/store-audit.js';
import { DEFAULT_RUN_LIMITS, TokenLimits } from '../../mcp/token-limits.js';
import { assertGitRepository } from '../../planner/changed-files.js';
import { openStore } from '../../store/index.js';
import type { CliIo } from '../cli-io.js';
import { orchestrateRecorded, projectIdOf } from '../run-recorder.js';
import { STORE_FLAGS, storeConnectionFromFlags } from '../store-flags.js';

/** The environment variable holding a token for `qf mcp` (checked against QF_API_TOKENS_FILE, as the bot checks its Bearer tokens). */
export const MCP_TOKEN_ENV = 'QF_MCP_TOKEN';

/**
 * Who the stdio caller is: without QF_MCP_TOKEN, the local user, who could run `qf run` anyway
 * (scopes read and run); with it, the token's entry in QF_API_TOKENS_FILE and only its scopes, or
 * no one when the token matches none (every tool then refuses, naming why).
 */
function stdioIdentity(env: Record<string, string | undefined>): McpIdentity {
  const token = env[MCP_TOKEN_ENV]?.trim();
  if (!token) return { ok: true, principal: { id: `user:${os.userInfo().username || 'local-user'}`, scopes: [McpScope.read, McpScope.run] } };
  const file = env.QF_API_TOKENS_FILE?.trim();
  if (!file) return { ok: false, reason: `${MCP_TOKEN_ENV} is set but QF_API_TOKENS_FILE is not, so the token cannot be checked` };
  const result = verifyBearerToken(readApiTokens(file), `Bearer ${token}`);
  if (!result.ok) return { ok: false, reason: `the token in ${MCP_TOKEN_ENV} is not valid (${result.message})` };
  return { ok: true, principal: { id: `token:${result.name}`, scopes: result.scopes } };
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new QfError('USAGE', `${flag} is "${value}"; expected a whole number of at least 1`);
  return n;
}

/**
 * `qf mcp`: the MCP server over stdio, for an agent started by the local user. stdout carries
 * JSON-RPC only; anything for a person goes to stderr. Ends when the client closes stdin.
 * With --repo, run_pytest runs that repository's tests under its policy, read from git at
 * --policy-ref (HEAD) so that the agent's edits to the policy in the work tree never count.
 */
export async function mcpCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...STORE_FLAGS,
      repo: { type: 'string' },
      out: { type: 'string' },
      policy: { type: 'string' },
      'policy-ref': { type: 'string' },
      'max-concurrent-runs': { type: 'string' },
      'max-runs-per-minute': { type: 'string' },
    },
    strict: true,
  });
  if (!io.streams) throw new QfError('USAGE', 'qf mcp speaks JSON-RPC over stdin and stdout; it needs the process streams');
  if (values.policy && values['policy-ref']) throw new QfError('USAGE', 'use either --policy FILE or --policy-ref REF, not both');
  if (!values.repo && (values.policy || values['policy-ref'] || values.out)) throw new QfError('USAGE', '--policy, --policy-ref and --out need --repo DIR');
  const limits = new TokenLimits({
    concurrent: positiveInt(values['max-concurrent-runs'], '--max-concurrent-runs', DEFAULT_RUN_LIMITS.concurrent),
    perWindow: positiveInt(values['max-runs-per-minute'], '--max-runs-per-minute', DEFAULT_RUN_LIMITS.perWindow),
    windowMs: 60_000,
  });
  const repoDir = values.repo ? path.resolve(io.cwd, values.repo) : undefined;
  if (repoDir) await assertGitRepository(repoDir);
  const connection = storeConnectionFromFlags({ ...values, ...(values.db ? { db: path.resolve(io.cwd, values.db) } : {}) });
  const store = await openStore(connection);
  const clock = () => new Date();
  const audit = storeAudit(store, clock);
  const identity = stdioIdentity(io.env);
  const context = { store, identify: fixedIdentity(identity), audit: audit.audit, clock };
  const projectId = repoDir ? await projectIdOf(repoDir) : undefined;
  const server = createMcpServer(context, (mcp) => {
    if (!repoDir || !projectId) return;
    const policy: PolicySource = values.policy
      ? { file: path.resolve(io.cwd, values.policy) }
      : { ref: values['policy-ref'] ?? 'HEAD', path: DEFAULT_POLICY_PATH };
    registerRunPytest(mcp, context, {
      repoDir,
      projectId,
      policy,
      outRoot: path.resolve(io.cwd, values.out ?? path.join(repoDir, 'qf-out', 'mcp')),
      env: io.env,
      limits,
      run: (options) => orchestrateRecorded(connection, options),
    });
  });
  const { stdin, stdout } = io.streams;
  const input = stdin.pipe(jsonRpcLineGuard((line) => stdout.write(line)));
  const transport = new StdioServerTransport(input as unknown as NodeJS.ReadStream, stdout as NodeJS.WriteStream);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    input.once('end', resolve);
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    await server.connect(transport);
    io.stderr(`qf mcp: serving over stdio (store ${store.location}${repoDir ? `, run_pytest in ${repoDir}` : ''})\n`);
    await closed;
  } finally {
    await server.close().catch(() => undefined);
    await audit.flush();
    await store.close();
  }
  return ExitCode.pass;
}
