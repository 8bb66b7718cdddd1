import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import * as z from 'zod';
import { EvidenceFile } from '../constants.js';
import { sha256Hex, canonicalJson } from '../util/canonical-json.js';
import { parseStrictJson } from '../util/parse-strict-json.js';
import { envelopeSignedBy, keyId, signEnvelope } from './dsse.js';
import { writeFileAtomic } from './output-folder.js';
import { evidenceStatement, IN_TOTO_PAYLOAD_TYPE, StatementSchema, type StatementSource } from './evidence-statement.js';
import { readEvidence } from './read-evidence.js';

/** An envelope larger than this is refused unread: it comes with an untrusted bundle. */
const MAX_ENVELOPE_BYTES = 16 * 1024 * 1024;

const EnvelopeSchema = z.strictObject({
  payloadType: z.string(),
  payload: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64'),
  signatures: z.array(z.strictObject({ keyid: z.string(), sig: z.string() })).min(1),
});

/**
 * Signs a sealed evidence folder: writes evidence.dsse.json, a DSSE envelope over the in-toto
 * Statement of evidence.json (its exact bytes) and every artifact it indexes. Returns the key id.
 */
export async function signEvidence(dir: string, key: KeyObject): Promise<string> {
  const file = path.join(dir, EvidenceFile.evidence);
  const bytes = await readFile(file);
  const evidence = await readEvidence(file, bytes);
  const statement = evidenceStatement(evidence, sha256Hex(bytes));
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), key);
  // Through a new file renamed into place: a link planted where the envelope goes is replaced, not followed.
  await writeFileAtomic(path.join(dir, EvidenceFile.signature), `${JSON.stringify(envelope, null, 2)}\n`);
  return keyId(key);
}

/**
 * Checks evidence.dsse.json against a public key the verifier trusts: a signature by that key, a
 * Statement of our predicate type, and subjects and predicate that match evidence.json's bytes and
 * its artifact index exactly (the artifacts' own digests are checked against the files elsewhere).
 * Returns the problem, or null when the signature holds.
 */
export async function checkEvidenceSignature(dir: string, evidence: StatementSource, evidenceBytes: Buffer, key: KeyObject): Promise<string | null> {
  const read = await readSignatureJson(dir, EvidenceFile.signature, 'a key was given');
  if ('problem' in read) return read.problem;
  const parsed = EnvelopeSchema.safeParse(read.value);
  if (!parsed.success)
    return `${EvidenceFile.signature} is not a DSSE envelope: ${parsed.error.issues[0]!.path.join('.') || '(root)'}: ${parsed.error.issues[0]!.message}`;
  const envelope = parsed.data;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return `${EvidenceFile.signature} has payload type ${JSON.stringify(envelope.payloadType)}, expected ${IN_TOTO_PAYLOAD_TYPE}`;
  if (!envelopeSignedBy(envelope, key)) {
    return `${EvidenceFile.signature} is not signed by the given key (key id ${keyId(key).slice(0, 16)}…; the envelope names ${envelope.signatures.map((signature) => `${signature.keyid.slice(0, 16)}…`).join(', ')})`;
  }
  return signedStatementProblem(Buffer.from(envelope.payload, 'base64'), evidence, evidenceBytes);
}

/**
 * Reads a signature file of an untrusted bundle: present (else it says why one was expected), a
 * regular file, bounded in size, strict JSON (no duplicate keys).
 */
export async function readSignatureJson(dir: string, name: string, expectedBecause: string): Promise<{ value: unknown } | { problem: string }> {
  const file = path.join(dir, name);
  const info = await lstat(file).catch(() => null);
  if (!info) return { problem: `${name} is missing: the bundle is not signed, and ${expectedBecause}` };
  if (!info.isFile()) return { problem: `${name} is not a regular file` };
  if (info.size > MAX_ENVELOPE_BYTES) return { problem: `${name} is ${info.size} bytes, more than the ${MAX_ENVELOPE_BYTES} accepted` };
  try {
    return { value: parseStrictJson(await readFile(file, 'utf8')) };
  } catch (error) {
    return { problem: `${name} is not valid JSON: ${(error as Error).message}` };
  }
}

/**
 * Whether a signed in-toto payload is exactly the Statement of this evidence: our predicate type, and
 * subjects and predicate that match evidence.json's bytes and its artifact index. Both signature
 * kinds (a workflow's key, keyless Sigstore) end here. Returns the problem, or null.
 */
export function signedStatementProblem(payload: Buffer, evidence: StatementSource, evidenceBytes: Buffer): string | null {
  let statement: z.infer<typeof StatementSchema>;
  try {
    const parsed = StatementSchema.safeParse(parseStrictJson(payload.toString('utf8')));
    if (!parsed.success)
      return `the signed statement is not a QualityFoundry gate statement: ${parsed.error.issues[0]!.path.join('.') || '(root)'}: ${parsed.error.issues[0]!.message}`;
    statement = parsed.data;
  } catch (error) {
    return `the signed statement is not valid JSON: ${(error as Error).message}`;
  }
  // What the evidence says now must be exactly what was signed: same bytes, same index, same verdict.
  const expected = evidenceStatement(evidence, sha256Hex(evidenceBytes));
  if (statement.predicate.evidenceSha256 !== expected.predicate.evidenceSha256 || statement.subject[0]?.digest.sha256 !== expected.predicate.evidenceSha256) {
    return `evidence.json is not the one that was signed (sha256 ${expected.predicate.evidenceSha256.slice(0, 12)}…, signed ${statement.predicate.evidenceSha256.slice(0, 12)}…)`;
  }
  if (canonicalJson(statement) !== canonicalJson(expected))
    return 'the signed statement does not match the evidence (subjects, verdict or artifact digests differ)';
  return null;
}
