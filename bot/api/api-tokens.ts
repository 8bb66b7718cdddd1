import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { QfError, errorMessage } from '../../src/errors.js';

/**
 * What a token may do. `read`: the read-only HTTP API (/api/v1) and read tools; `run`: tools that start
 * a gate run (the MCP server). Unknown scope names are refused when the file is read, so a typo never
 * silently grants nothing (or something else).
 */
export const API_SCOPES = ['read', 'run'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Who presented a valid token: the entry's name (for logs and audit, never the token) and its scopes. */
export interface ApiTokenIdentity {
  name: string;
  scopes: readonly ApiScope[];
}

const Sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/i, { error: 'expected the sha256 of the token as 64 hex digits (printf %s "$TOKEN" | sha256sum)' })
  .transform((hex) => hex.toLowerCase());

const ApiTokenEntrySchema = z.strictObject({
  /** A label for logs and audit events, e.g. "dashboard" or "ci-reader". */
  name: z.string().trim().min(1).max(100),
  /** sha256 of the token, hex. The token itself is never stored. */
  sha256: Sha256Hex,
  scopes: z.array(z.enum(API_SCOPES)).min(1),
});

interface ApiTokenEntry {
  name: string;
  digest: Buffer;
  scopes: readonly ApiScope[];
}

/** The configured tokens, as read from QF_API_TOKENS_FILE. Empty: no token is valid. */
export interface ApiTokenTable {
  readonly entries: readonly ApiTokenEntry[];
  /** Where it was read from, for messages. */
  readonly source: string;
}

export const EMPTY_API_TOKENS: ApiTokenTable = { entries: [], source: 'no QF_API_TOKENS_FILE' };

/** sha256 hex of a token: the value to write into QF_API_TOKENS_FILE. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Reads QF_API_TOKENS_FILE (see parseApiTokens); a missing or malformed file is a BAD_INPUT naming it. */
export function readApiTokens(path: string): ApiTokenTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new QfError('BAD_INPUT', `QF_API_TOKENS_FILE: cannot read ${path}: ${errorMessage(error)}`, { cause: error });
  }
  return parseApiTokens(text, path);
}

/**
 * Parses the token file: either JSON Lines (one `{"name","sha256","scopes"}` object per line; blank lines
 * and `#` comments allowed) or one YAML/JSON document holding a list of such entries. Names and hashes
 * must be unique. Errors name the source, the entry (line for JSON Lines) and the field.
 */
export function parseApiTokens(text: string, source: string): ApiTokenTable {
  const raw = readEntries(text, source);
  const entries: ApiTokenEntry[] = [];
  const names = new Set<string>();
  const digests = new Set<string>();
  for (const { where, value } of raw) {
    const parsed = ApiTokenEntrySchema.safeParse(value);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? `"${issue.path.join('.')}"` : 'entry'}: ${issue.message}`);
      throw new QfError('BAD_INPUT', `QF_API_TOKENS_FILE ${source}, ${where}: ${problems.join('; ')}`);
    }
    const entry = parsed.data;
    if (names.has(entry.name)) throw new QfError('BAD_INPUT', `QF_API_TOKENS_FILE ${source}, ${where}: the name "${entry.name}" is used twice`);
    if (digests.has(entry.sha256)) throw new QfError('BAD_INPUT', `QF_API_TOKENS_FILE ${source}, ${where}: the same token hash is listed twice`);
    names.add(entry.name);
    digests.add(entry.sha256);
    entries.push({ name: entry.name, digest: Buffer.from(entry.sha256, 'hex'), scopes: [...new Set(entry.scopes)] });
  }
  return { entries, source };
}

function readEntries(text: string, source: string): { where: string; value: unknown }[] {
  const lines = text.split(/\r?\n/);
  const meaningful = lines.map((line, index) => ({ line: line.trim(), number: index + 1 })).filter(({ line }) => line !== '' && !line.startsWith('#'));
  if (meaningful.length > 1 && meaningful.every(({ line }) => line.startsWith('{'))) {
    return meaningful.map(({ line, number }) => {
      try {
        return { where: `line ${number}`, value: JSON.parse(line) as unknown };
      } catch (error) {
        throw new QfError('BAD_INPUT', `QF_API_TOKENS_FILE ${source}, line ${number}: not JSON: ${errorMessage(error)}`, { cause: error });
      }
    });
  }
  let document: unknown;
  try {
    document = parseYaml(text) as unknown;
  } catch (error) {
    throw new QfError('BAD_INPUT', `QF_API_TOKENS_FILE ${source}: not YAML, JSON or JSON Lines: ${errorMessage(error)}`, { cause: error });
  }
  if (document === null || document === undefined) return [];
  // One JSON Lines entry alone is also a one-entry document.
  const list = Array.isArray(document)
    ? document
    : typeof document === 'object' && !('tokens' in document)
      ? [document]
      : (document as { tokens: unknown }).tokens;
  if (!Array.isArray(list)) throw new QfError('BAD_INPUT', `QF_API_TOKENS_FILE ${source}: expected a list of {name, sha256, scopes} entries`);
  return list.map((value, index) => ({ where: `entry ${index + 1}`, value }));
}

export type BearerFailure =
  /** No Authorization header, or not the Bearer scheme: answer 401 with `WWW-Authenticate: Bearer`. */
  | { ok: false; status: 401; error: 'missing_token'; message: string }
  /** A Bearer token that matches no entry: 401 with `error="invalid_token"`. */
  | { ok: false; status: 401; error: 'invalid_token'; message: string };

export type BearerVerification = ({ ok: true } & ApiTokenIdentity) | BearerFailure;

/**
 * Checks an `Authorization` header against the table. The presented token is hashed and its digest
 * compared with every entry's in constant time (timingSafeEqual over equal-length digests, no early
 * exit), so neither the match nor its position leaks through timing. Messages never echo the token.
 */
export function verifyBearerToken(tokens: ApiTokenTable, header: string | readonly string[] | undefined): BearerVerification {
  const value = Array.isArray(header) ? (header.length === 1 ? header[0] : undefined) : (header as string | undefined);
  const match = typeof value === 'string' ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(value) : null;
  if (!match) {
    return {
      ok: false,
      status: 401,
      error: 'missing_token',
      message: value === undefined ? 'missing Authorization header; expected "Authorization: Bearer <token>"' : 'expected "Authorization: Bearer <token>"',
    };
  }
  const presented = createHash('sha256').update(match[1]!, 'utf8').digest();
  let found: ApiTokenEntry | undefined;
  for (const entry of tokens.entries) {
    if (timingSafeEqual(presented, entry.digest) && found === undefined) found = entry;
  }
  if (!found) return { ok: false, status: 401, error: 'invalid_token', message: 'the Bearer token is not valid' };
  return { ok: true, name: found.name, scopes: found.scopes };
}

/** Whether an identity carries a scope. */
export function hasScope(identity: ApiTokenIdentity, scope: ApiScope): boolean {
  return identity.scopes.includes(scope);
}
