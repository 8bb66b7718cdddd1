import { QfError, errorMessage } from '../../errors.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatCompletion {
  content: string;
  usage: { promptTokens: number; completionTokens: number };
}

/**
 * A minimal OpenAI-compatible chat client. Module-private to the gateway on purpose: nothing else
 * may call a provider, so every call passes classification, routing and the veto hooks.
 */
export async function chatCompletion(
  fetchImpl: typeof fetch,
  provider: { name: string; base_url: string; model: string },
  messages: ChatMessage[],
  options: { maxTokens?: number; timeoutMs?: number } = {},
): Promise<ChatCompletion> {
  const url = `${provider.base_url.replace(/\/+$/, '')}/chat/completions`;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: provider.model, messages, ...(options.maxTokens ? { max_tokens: options.maxTokens } : {}) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
    });
  } catch (error) {
    throw new QfError('TOOL_FAILED', `LLM provider '${provider.name}' at ${url} did not answer: ${errorMessage(error)}`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new QfError('TOOL_FAILED', `LLM provider '${provider.name}' at ${url} answered HTTP ${response.status}: ${text.slice(0, 300)}`);
  let body: { choices?: Array<{ message?: { content?: unknown } }>; usage?: { prompt_tokens?: number; completion_tokens?: number } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch (error) {
    throw new QfError('TOOL_FAILED', `LLM provider '${provider.name}' at ${url} answered with something other than JSON`, { cause: error });
  }
  const content = body.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new QfError('TOOL_FAILED', `LLM provider '${provider.name}' at ${url} answered without choices[0].message.content`);
  return { content, usage: { promptTokens: body.usage?.prompt_tokens ?? 0, completionTokens: body.usage?.completion_tokens ?? 0 } };
}
