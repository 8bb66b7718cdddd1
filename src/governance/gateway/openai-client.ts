import { setTimeout as sleep } from 'node:timers/promises';
import { QfError, errorMessage } from '../../errors.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatCompletion {
  content: string;
  usage: { promptTokens: number; completionTokens: number };
}

export interface ChatOptions {
  maxTokens?: number;
  temperature?: number;
  /** The model to ask for; default: the provider's. */
  model?: string;
  /** Sent as `Authorization: Bearer …`; read by the gateway, never logged. */
  apiKey?: string;
  /** Deadline of one HTTP attempt (default 120 s). */
  timeoutMs?: number;
  /** Attempts in all for 429 and 5xx answers and network errors (default 3). */
  attempts?: number;
  /** First wait between attempts, doubled each time; a Retry-After header (seconds, at most 30) wins. Default 500 ms. */
  retryDelayMs?: number;
}

/** The exact body sent: what the response cache is keyed by. */
export function chatRequestBody(provider: { model: string }, messages: readonly ChatMessage[], options: ChatOptions): Record<string, unknown> {
  return {
    model: options.model ?? provider.model,
    messages,
    ...(options.maxTokens ? { max_tokens: options.maxTokens } : {}),
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
  };
}

const MAX_RETRY_AFTER_MS = 30_000;

/** Worth another attempt: rate limited, or the server's own failure. */
const retryable = (status: number) => status === 429 || status >= 500;

/**
 * A minimal OpenAI-compatible chat client. Module-private to the gateway on purpose: nothing else
 * may call a provider, so every call passes classification, routing and the veto hooks. 429 and
 * 5xx answers and network errors are retried with backoff; each attempt has its own deadline.
 */
export async function chatCompletion(
  fetchImpl: typeof fetch,
  provider: { name: string; base_url: string; model: string },
  messages: ChatMessage[],
  options: ChatOptions = {},
): Promise<ChatCompletion> {
  const url = `${provider.base_url.replace(/\/+$/, '')}/chat/completions`;
  const attempts = Math.max(1, options.attempts ?? 3);
  const body = JSON.stringify(chatRequestBody(provider, messages, options));
  let delay = options.retryDelayMs ?? 500;
  let response: Response | undefined;
  let text = '';
  for (let attempt = 1; ; attempt++) {
    let failure: string | undefined;
    let cause: unknown;
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
      });
      text = await response.text();
      if (!retryable(response.status)) break;
      failure = `answered HTTP ${response.status}: ${text.slice(0, 300)}`;
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      failure = timedOut ? `did not answer within ${(options.timeoutMs ?? 120_000) / 1000} s` : `did not answer: ${errorMessage(error)}`;
      cause = error;
      response = undefined;
    }
    if (attempt >= attempts) throw new QfError('TOOL_FAILED', `LLM provider '${provider.name}' at ${url} ${failure} (after ${attempts} attempts)`, { cause });
    const retryAfter = Number(response?.headers.get('retry-after'));
    await sleep(Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS) : delay);
    delay *= 2;
  }
  if (!response.ok) throw new QfError('TOOL_FAILED', `LLM provider '${provider.name}' at ${url} answered HTTP ${response.status}: ${text.slice(0, 300)}`);
  let parsed: { choices?: Array<{ message?: { content?: unknown } }>; usage?: { prompt_tokens?: number; completion_tokens?: number } };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new QfError(
      'TOOL_FAILED',
      `LLM provider '${provider.name}' at ${url} answered with something other than JSON: ${JSON.stringify(text.slice(0, 100))}`,
      {
        cause: error,
      },
    );
  }
  const content = parsed?.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new QfError('TOOL_FAILED', `LLM provider '${provider.name}' at ${url} answered without choices[0].message.content`);
  const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);
  return { content, usage: { promptTokens: count(parsed.usage?.prompt_tokens), completionTokens: count(parsed.usage?.completion_tokens) } };
}
