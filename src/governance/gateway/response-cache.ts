import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChatCompletion } from './openai-client.js';

/** Model answers kept by the digest of the exact request, so the same request is not paid for twice. */
export interface ResponseCache {
  get(key: string): Promise<ChatCompletion | undefined>;
  set(key: string, value: ChatCompletion): Promise<void>;
}

/** For one run: nothing survives the process. */
export function memoryResponseCache(): ResponseCache {
  const entries = new Map<string, ChatCompletion>();
  return { get: async (key) => entries.get(key), set: async (key, value) => void entries.set(key, value) };
}

function isCompletion(value: unknown): value is ChatCompletion {
  const entry = value as ChatCompletion | null;
  return typeof entry?.content === 'string' && typeof entry.usage?.promptTokens === 'number' && typeof entry.usage.completionTokens === 'number';
}

/**
 * One JSON file per answer in a folder of the runner's (`<key>.json`, the key a sha256 hex). A file
 * that is unreadable or not an answer is a miss, never an error: the call is made again.
 */
export function fileResponseCache(dir: string): ResponseCache {
  const file = (key: string) => path.join(dir, `${key.replace(/[^0-9a-f]/g, '')}.json`);
  return {
    async get(key) {
      try {
        const value: unknown = JSON.parse(await readFile(file(key), 'utf8'));
        return isCompletion(value) ? { content: value.content, usage: value.usage } : undefined;
      } catch {
        return undefined;
      }
    },
    async set(key, value) {
      await mkdir(dir, { recursive: true });
      // Written whole, then renamed: a reader never sees half an answer.
      const temporary = `${file(key)}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify({ content: value.content, usage: value.usage }));
      await rename(temporary, file(key));
    },
  };
}
