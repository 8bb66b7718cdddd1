import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { REPO_ROOT } from './temp-git-repo.js';

export interface StdioMcp {
  client: Client;
  transport: StdioClientTransport;
  /** What the server wrote to stderr so far (stdout carries JSON-RPC only). */
  stderr(): string;
  close(): Promise<void>;
}

/** `qf mcp ARGS` as a real child process (src/cli/index.ts through tsx), with the SDK's own client on its stdio. */
export async function startStdioMcp(args: string[], env: Record<string, string> = {}): Promise<StdioMcp> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/index.ts'), 'mcp', ...args],
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'qf-test', version: '0.0.0' });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => stderr,
    close: async () => {
      await client.close();
    },
  };
}

/** The JSON a tool answered with (its structured content). */
export function structured<T = Record<string, unknown>>(result: unknown): T {
  return (result as { structuredContent: T }).structuredContent;
}

/**
 * `qf mcp ARGS` in this process: main() with its stdin and stdout as pipes, the SDK's client on the
 * other ends (a stdio transport is line-delimited JSON both ways, so the SDK's server-side stdio
 * transport serves as the client's). The same code as the child process, visible to coverage.
 */
export async function startInProcessMcp(args: string[], env: Record<string, string> = {}): Promise<StdioMcp> {
  const { main } = await import('../../src/cli/main.js');
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  let stderr = '';
  const exited = main(['mcp', ...args], {
    stdout: () => undefined,
    stderr: (text) => void (stderr += text),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    cwd: REPO_ROOT,
    streams: { stdin: toServer, stdout: fromServer },
  });
  const transport = new StdioServerTransport(fromServer as unknown as NodeJS.ReadStream, toServer as unknown as NodeJS.WriteStream);
  const client = new Client({ name: 'qf-test', version: '0.0.0' });
  await client.connect(transport);
  return {
    client,
    transport: transport as unknown as StdioClientTransport,
    stderr: () => stderr,
    close: async () => {
      await client.close();
      toServer.end();
      const code = await exited;
      if (code !== 0) throw new Error(`qf mcp exited ${code}: ${stderr}`);
    },
  };
}
