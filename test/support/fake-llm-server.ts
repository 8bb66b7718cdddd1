import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One chat request as the server received it. */
export interface ReceivedChat {
  path: string;
  headers: IncomingHttpHeaders;
  body: { model: string; messages: Array<{ role: string; content: string }>; max_tokens?: number; temperature?: number };
}

/** What the script answers: a chat answer with its usage, an HTTP status with a raw body, or no answer at all. */
export type ScriptedAnswer =
  | { content: string; promptTokens?: number; completionTokens?: number }
  | { status: number; body: string; headers?: Record<string, string> }
  | { hang: true };

export interface FakeLlmServer {
  /** `http://127.0.0.1:PORT/v1`, an OpenAI-compatible base URL. */
  baseUrl: string;
  received: ReceivedChat[];
  close(): Promise<void>;
}

/**
 * A real OpenAI-compatible HTTP server on loopback for tests: POST /v1/chat/completions answers
 * what `script` says for each request (in order, with the request in hand) and records every
 * request, headers included. Usage counts are the script's, so budgets can be tested exactly.
 */
export async function startFakeLlmServer(script: (request: ReceivedChat, index: number) => ScriptedAnswer): Promise<FakeLlmServer> {
  const received: ReceivedChat[] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end('not found');
        return;
      }
      const request: ReceivedChat = { path: req.url, headers: req.headers, body: JSON.parse(text) as ReceivedChat['body'] };
      received.push(request);
      const answer = script(request, received.length - 1);
      if ('hang' in answer) {
        hanging.add(res);
        return;
      }
      if ('status' in answer) {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chat-${received.length}`,
          object: 'chat.completion',
          model: request.body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: answer.content }, finish_reason: 'stop' }],
          usage: {
            prompt_tokens: answer.promptTokens ?? 10,
            completion_tokens: answer.completionTokens ?? 5,
            total_tokens: (answer.promptTokens ?? 10) + (answer.completionTokens ?? 5),
          },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
