import { errorMessage } from '../errors.js';

/** How long one call to the bot may take: a history or a trend is worth a few seconds of a job, not more. */
const CALL_TIMEOUT_MS = 10_000;

export interface BotApi {
  /** The bot's public URL (input `api-url`), without a trailing slash. */
  url: string;
  /** A `read` token of its API (input `api-token`). */
  token: string;
}

/** The bot answered with an error, or could not be reached; the message says which, never the token. */
export class BotApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'BotApiError';
  }
}

/**
 * GET `path` (under /api/v1) of the bot's read API with the Bearer token, as JSON. The answer comes
 * from outside this job: callers validate its shape. The bot's error body (`{ message }`) is quoted,
 * cut short, so a 401 or 404 says why.
 */
export async function getBotApi(api: BotApi, path: string, query: Record<string, string> = {}): Promise<unknown> {
  const url = new URL(`${api.url}/api/v1${path}`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const where = `${url.origin}${url.pathname}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${api.token}`, accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (error) {
    throw new BotApiError(`the bot's API at ${where} could not be reached (${errorMessage(error)})`, null);
  }
  const text = await response.text();
  if (!response.ok) {
    const said = messageOf(text);
    throw new BotApiError(`the bot's API answered ${response.status} for ${where}${said ? `: ${said}` : ''}`, response.status);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BotApiError(`the bot's API answered ${where} with something that is not JSON`, response.status);
  }
}

function messageOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    return typeof body.message === 'string' ? body.message.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}
