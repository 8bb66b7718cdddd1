import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ExitCode } from '../../constants.js';
import { QfError } from '../../errors.js';
import { createMcpServer } from '../../mcp/create-mcp-server.js';
import { jsonRpcLineGuard } from '../../mcp/json-rpc-line-guard.js';
import { fixedIdentity, McpScope, type McpIdentity } from '../../mcp/mcp-principal.js';
import { storeAudit } from '../../mcp/store-audit.js';
import { openStore } from '../../store/index.js';
import type { CliIo } from '../cli-io.js';
import { STORE_FLAGS, storeConnectionFromFlags } from '../store-flags.js';

/**
 * `qf mcp`: the MCP server over stdio, for an agent started by the local user. stdout carries
 * JSON-RPC only; anything for a person goes to stderr. Ends when the client closes stdin.
 */
export async function mcpCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...STORE_FLAGS, repo: { type: 'string' }, out: { type: 'string' } }, strict: true });
  if (!io.streams) throw new QfError('USAGE', 'qf mcp speaks JSON-RPC over stdin and stdout; it needs the process streams');
  const connection = storeConnectionFromFlags({ ...values, ...(values.db ? { db: path.resolve(io.cwd, values.db) } : {}) });
  const store = await openStore(connection);
  const clock = () => new Date();
  const audit = storeAudit(store, clock);
  const identity: McpIdentity = { ok: true, principal: { id: `user:${os.userInfo().username || 'local-user'}`, scopes: [McpScope.read, McpScope.run] } };
  const server = createMcpServer({ store, identify: fixedIdentity(identity), audit: audit.audit, clock });
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
    io.stderr(`qf mcp: serving over stdio (store ${store.location})\n`);
    await closed;
  } finally {
    await server.close().catch(() => undefined);
    await audit.flush();
    await store.close();
  }
  return ExitCode.pass;
}
