import { readFile } from 'node:fs/promises';
import { QfError } from '../errors.js';
import { parseStrictJson } from '../util/parse-strict-json.js';
import { EvidenceV1Schema, type EvidenceV1 } from './evidence-v1.js';
import { findUnknownMembers } from './find-unknown-members.js';
import { EVIDENCE_SCHEMA_VERSION, EvidenceSchema, type Evidence } from './schema.js';

/**
 * Reads and checks evidence.json (this version or version 1) strictly; it may come from an
 * untrusted artifact: valid JSON with no key twice and no `__proto__` member, the schema, and no
 * member the schema does not know (zod would strip it, and the seal would be checked over what is
 * left).
 */
export async function readEvidence(file: string, bytes?: Buffer): Promise<Evidence | EvidenceV1> {
  let raw: unknown;
  try {
    raw = parseStrictJson((bytes ?? (await readFile(file))).toString('utf8'));
  } catch (error) {
    throw new QfError('EVIDENCE_INVALID', `Cannot read ${file} as JSON: ${(error as Error).message}`, { cause: error });
  }
  const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion === 1 ? 1 : EVIDENCE_SCHEMA_VERSION;
  const parsed = (version === 1 ? EvidenceV1Schema : EvidenceSchema).safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new QfError('EVIDENCE_INVALID', `${file} does not match the evidence schema v${version}: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  const unknown = findUnknownMembers(raw, parsed.data);
  if (unknown.length > 0) {
    throw new QfError(
      'EVIDENCE_INVALID',
      `${file} has member${unknown.length === 1 ? '' : 's'} the evidence schema v${version} does not know: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`,
    );
  }
  return parsed.data;
}
