import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { verifyAuditChain } from '../audit/audit-chain.js';
import { EvidenceFile } from '../constants.js';
import { QfError } from '../errors.js';
import { sha256File } from './index-artifacts.js';
import { evidenceSealDigest } from './write-evidence.js';
import { EvidenceV1Schema, upgradeEvidenceV1, type EvidenceV1 } from './evidence-v1.js';
import { EVIDENCE_SCHEMA_VERSION, EvidenceSchema, type Evidence } from './schema.js';

export type EvidenceCheck = { ok: true; evidence: Evidence; checkedArtifacts: number } | { ok: false; problem: string };

/** Reads and schema-checks evidence.json (this version or version 1); it may come from an untrusted artifact. */
export async function readEvidence(file: string): Promise<Evidence | EvidenceV1> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new QfError('EVIDENCE_INVALID', `Cannot read ${file} as JSON: ${(error as Error).message}`, { cause: error });
  }
  const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion === 1 ? 1 : EVIDENCE_SCHEMA_VERSION;
  const parsed = (version === 1 ? EvidenceV1Schema : EvidenceSchema).safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new QfError('EVIDENCE_INVALID', `${file} does not match the evidence schema v${version}: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return parsed.data;
}

/**
 * Re-checks an evidence folder: the schema, every artifact's size and sha256, and the audit
 * chain. Stops at the first thing that does not match and names it.
 */
export async function verifyEvidence(target: string): Promise<EvidenceCheck> {
  const info = await stat(target).catch(() => undefined);
  if (!info) return { ok: false, problem: `${target} does not exist` };
  const file = info.isDirectory() ? path.join(target, EvidenceFile.evidence) : target;
  const dir = path.dirname(file);
  let evidence: Evidence | EvidenceV1;
  try {
    evidence = await readEvidence(file);
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
  for (const artifact of evidence.artifacts) {
    const absolute = path.resolve(dir, artifact.path);
    if (path.relative(dir, absolute).startsWith('..')) return { ok: false, problem: `artifact ${artifact.path} points outside the evidence folder` };
    const size = await stat(absolute).then((s) => s.size, () => undefined);
    if (size === undefined) return { ok: false, problem: `artifact ${artifact.path} is missing` };
    if (size !== artifact.size) return { ok: false, problem: `artifact ${artifact.path} has ${size} bytes, evidence says ${artifact.size}` };
    const digest = await sha256File(absolute);
    if (digest !== artifact.sha256) return { ok: false, problem: `artifact ${artifact.path} has sha256 ${digest}, evidence says ${artifact.sha256}` };
  }
  const chain = verifyAuditChain(evidence.audit);
  if (!chain.ok) return { ok: false, problem: `audit chain broken at seq ${chain.brokenSeq}: ${chain.reason}` };
  // The chain proves the events; the seal ties them to the rest of the file (verdict, steps, metrics).
  const seal = evidence.audit.at(-1);
  if (seal?.action !== 'evidence.sealed') return { ok: false, problem: 'the audit chain does not end with an evidence.sealed event' };
  const expected = evidenceSealDigest(evidence);
  if (seal.data.digest !== expected) return { ok: false, problem: `evidence.json was changed after it was sealed (seal digest ${String(seal.data.digest).slice(0, 12)}…, content digest ${expected.slice(0, 12)}…)` };
  return { ok: true, evidence: evidence.schemaVersion === 1 ? upgradeEvidenceV1(evidence) : evidence, checkedArtifacts: evidence.artifacts.length };
}
