import { Transform, type TransformCallback } from 'node:stream';
import { ErrorCode, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/** Longest line (one JSON-RPC message) taken over stdio; a longer one is answered with an error and dropped. */
export const MAX_STDIO_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * Sits between stdin and the SDK's stdio transport, which drops a line that is not JSON or not a
 * JSON-RPC message without a word: such lines get the JSON-RPC error the spec asks for (-32700 parse
 * error, -32600 invalid request, with the request's id when it had one), and only well-formed
 * messages go on to the server.
 */
export function jsonRpcLineGuard(reply: (line: string) => void): Transform {
  let pending = '';
  let skipping = false;
  const answer = (code: number, message: string, id: unknown = null) => {
    const safeId = typeof id === 'string' || typeof id === 'number' ? id : null;
    reply(`${JSON.stringify({ jsonrpc: '2.0', id: safeId, error: { code, message } })}\n`);
  };
  const check = (line: string): string | undefined => {
    if (line.trim() === '') return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      answer(ErrorCode.ParseError, `Parse error: ${(error as Error).message}`);
      return undefined;
    }
    if (!JSONRPCMessageSchema.safeParse(parsed).success) {
      const id = parsed !== null && typeof parsed === 'object' ? (parsed as { id?: unknown }).id : null;
      answer(ErrorCode.InvalidRequest, 'Invalid Request: expected a JSON-RPC 2.0 request, notification or response object', id);
      return undefined;
    }
    return `${line}\n`;
  };
  return new Transform({
    transform(chunk: Buffer | string, _encoding, done: TransformCallback) {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (skipping) {
          skipping = false; // the rest of an oversized line ends here
          continue;
        }
        const passed = check(line.replace(/\r$/, ''));
        if (passed) this.push(passed);
      }
      if (Buffer.byteLength(pending) > MAX_STDIO_MESSAGE_BYTES) {
        if (!skipping) answer(ErrorCode.InvalidRequest, `Invalid Request: a message longer than ${MAX_STDIO_MESSAGE_BYTES} bytes`);
        skipping = true;
        pending = '';
      }
      done();
    },
    flush(done: TransformCallback) {
      const passed = skipping ? undefined : check(pending);
      if (passed) this.push(passed);
      done();
    },
  });
}
