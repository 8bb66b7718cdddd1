import path from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MAX_STDIO_MESSAGE_BYTES } from '../../src/mcp/json-rpc-line-guard.js';
import { REPO_ROOT, tempDir } from '../support/temp-git-repo.js';

let work: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  work = await tempDir('qf-mcp-malformed-');
});
afterAll(async () => {
  await work.cleanup();
});

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

describe('qf mcp over stdio with malformed input', () => {
  it('in this process too (main with piped streams): each bad line answered, a line past the size limit refused, and stdin’s end ends it', async () => {
    const toServer = new PassThrough();
    const fromServer = new PassThrough();
    const exited = main(['mcp', '--db', path.join(work.dir, 'in-process.db')], {
      stdout: () => undefined,
      stderr: () => undefined,
      env: {},
      cwd: work.dir,
      streams: { stdin: toServer, stdout: fromServer },
    });
    const lines: Array<Record<string, any>> = [];
    let buffer = '';
    fromServer.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) if (part.trim()) lines.push(JSON.parse(part));
    });
    toServer.write('[1, 2\r\n');
    toServer.write(`${'x'.repeat(MAX_STDIO_MESSAGE_BYTES + 10)}`);
    toServer.write('still the same long line\n');
    toServer.write(`${JSON.stringify(INITIALIZE)}\n`);
    while (!lines.some((line) => line.id === 1)) await new Promise((resolve) => setTimeout(resolve, 20));
    toServer.end();
    expect(await exited).toBe(0);
    expect(lines.map((line) => line.error?.code ?? 'result')).toEqual([-32700, -32600, 'result']);
    expect(lines[1]?.error.message).toContain(`longer than ${MAX_STDIO_MESSAGE_BYTES} bytes`);
  });

  it('answers each malformed line with a JSON-RPC error, keeps serving, and exits 0 when stdin closes', async () => {
    const child = execa(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/index.ts'), 'mcp', '--db', path.join(work.dir, 'qf.db')], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    const lines: Array<Record<string, any>> = [];
    let buffer = '';
    const answered = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => lines.length >= count && resolve();
        child.stdout!.on('data', check);
        check();
      });
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) if (part.trim()) lines.push(JSON.parse(part));
    });
    child.stdin!.write('{this is not json\n');
    child.stdin!.write('42\n');
    child.stdin!.write('{"jsonrpc":"2.0","id":7,"params":{}}\n');
    child.stdin!.write(`${JSON.stringify(INITIALIZE)}\n`);
    child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_runs', arguments: 'not an object' } })}\n`);
    child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'no/such/method' })}\n`);
    await answered(6);
    child.stdin!.end();
    const result = await child;

    // The guard answers the first three at once, in order; the server answers the rest as each completes.
    expect(lines.slice(0, 3)).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error/) } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/^Invalid Request/) } },
      { jsonrpc: '2.0', id: 7, error: { code: -32600, message: expect.stringMatching(/^Invalid Request/) } },
    ]);
    expect(lines.find((line) => line.id === 1)).toMatchObject({ id: 1, result: { serverInfo: { name: 'qualityfoundry' } } });
    // Params the request schema refuses: the SDK answers with an error (-32603, its choice), not a crash.
    expect(lines.find((line) => line.id === 2)).toMatchObject({ error: { code: expect.any(Number), message: expect.stringMatching(/arguments/) } });
    expect(lines.find((line) => line.id === 3)).toMatchObject({ error: { code: -32601 } });
    expect(result.exitCode).toBe(0);
  });
});
