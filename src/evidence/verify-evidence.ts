import type { KeyObject } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { verifyAuditChain } from '../audit/audit-chain.js';
import { EvidenceFile } from '../constants.js';
import { QfError } from '../errors.js';
import { sha256File } from './index-artifacts.js';
import { keyId } from './dsse.js';
import { readEvidence } from './read-evidence.js';
import { checkEvidenceSignature } from './sign-evidence.js';
import { evidenceSealDigest } from './write-evidence.js';
import { upgradeEvidenceV1, type EvidenceV1 } from './evidence-v1.js';
import type { Evidence } from './schema.js';
import type { KeylessIdentity } from './sigstore-evidence.js';

export { readEvidence };

export type EvidenceCheck = { ok: true; evidence: Evidence; checkedArtifacts: number; signedBy: string | null } | { ok: false; problem: string };

/** Files of an evidence folder that its artifact index does not list, by design. */
const UNINDEXED = new Set<string>([EvidenceFile.evidence, EvidenceFile.runState, EvidenceFile.signature, EvidenceFile.sigstoreBundle, EvidenceFile.gitignore]);

/**
 * Re-checks an evidence folder: evidence.json strictly (see readEvidence), that the folder holds
 * exactly the files its index lists (regular files, each once, with their size and sha256) besides
 * those its audit trail records as refused (`artifact.refused`), the
 * audit chain and its seal, and — given a public key — the DSSE signature over all of it, or — given
 * a certificate identity and a trusted root — the keyless Sigstore signature. Stops at
 * the first thing that does not match and names it. A target that does not exist is bad input
 * (QfError BAD_INPUT), not a failed check.
 */
export async function verifyEvidence(target: string, options: { publicKey?: KeyObject; keyless?: KeylessIdentity } = {}): Promise<EvidenceCheck> {
  const info = await lstat(target).catch(() => undefined);
  if (!info) throw new QfError('BAD_INPUT', `${target} does not exist; expected an evidence folder or its evidence.json.`);
  const file = info.isDirectory() ? path.join(target, EvidenceFile.evidence) : target;
  const dir = path.dirname(file);
  const fileInfo = await lstat(file).catch(() => undefined);
  if (!fileInfo) return { ok: false, problem: `${file} is missing` };
  if (!fileInfo.isFile()) return { ok: false, problem: `${file} is not a regular file` };
  const bytes = await readFile(file);
  let evidence: Evidence | EvidenceV1;
  try {
    evidence = await readEvidence(file, bytes);
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }

  const listed = new Set<string>();
  for (const artifact of evidence.artifacts) {
    const name = artifact.path;
    if (name !== path.posix.normalize(name) || name.startsWith('/') || name.startsWith('../') || name === '..' || name.includes('\\') || UNINDEXED.has(name)) {
      return { ok: false, problem: `artifact ${JSON.stringify(name)} is not a plain path inside the evidence folder` };
    }
    if (listed.has(name)) return { ok: false, problem: `artifact ${name} is listed twice` };
    listed.add(name);
    const absolute = path.join(dir, name);
    const stats = await lstat(absolute).catch(() => undefined);
    if (!stats) return { ok: false, problem: `artifact ${name} is missing` };
    if (!stats.isFile()) return { ok: false, problem: `artifact ${name} is not a regular file` };
    if (stats.size !== artifact.size) return { ok: false, problem: `artifact ${name} has ${stats.size} bytes, evidence says ${artifact.size}` };
    const digest = await sha256File(absolute);
    if (digest !== artifact.sha256) return { ok: false, problem: `artifact ${name} has sha256 ${digest}, evidence says ${artifact.sha256}` };
  }
  // Files qf itself refused to index (links, pipes, oversized files) stay in the folder and are named by audit events.
  const refused = new Set(
    evidence.audit.filter((event) => event.action === 'artifact.refused' && typeof event.data.path === 'string').map((event) => String(event.data.path)),
  );
  const extra = (await unlistedFiles(dir, listed)).filter((name) => !refused.has(name));
  if (extra.length > 0)
    return {
      ok: false,
      problem: `the evidence folder holds ${extra.length === 1 ? 'a file' : 'files'} its index does not list: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''}`,
    };

  const chain = verifyAuditChain(evidence.audit);
  if (!chain.ok) return { ok: false, problem: `audit chain broken at seq ${chain.brokenSeq}: ${chain.reason}` };
  // The chain proves the events; the seal ties them to the rest of the file (verdict, steps, metrics).
  const seal = evidence.audit.at(-1);
  if (seal?.action !== 'evidence.sealed') return { ok: false, problem: 'the audit chain does not end with an evidence.sealed event' };
  const expected = evidenceSealDigest(evidence);
  if (seal.data.digest !== expected)
    return {
      ok: false,
      problem: `evidence.json was changed after it was sealed (seal digest ${String(seal.data.digest).slice(0, 12)}…, content digest ${expected.slice(0, 12)}…)`,
    };

  // The seal anyone can recompute; the signature only the key's holder can make.
  if (options.publicKey) {
    const problem = await checkEvidenceSignature(dir, evidence, bytes, options.publicKey);
    if (problem) return { ok: false, problem };
  }
  if (options.keyless) {
    // Loaded only here: the Sigstore verifier is a chunk of its own.
    const { checkEvidenceKeyless } = await import('./sigstore-evidence.js');
    const problem = await checkEvidenceKeyless(dir, evidence, bytes, options.keyless);
    if (problem) return { ok: false, problem };
  }
  // Version 1 is upgraded only now: the seal and the signature cover the bundle as written.
  const current = evidence.schemaVersion === 1 ? upgradeEvidenceV1(evidence) : evidence;
  return {
    ok: true,
    evidence: current,
    checkedArtifacts: evidence.artifacts.length,
    signedBy: options.publicKey ? `key ${keyId(options.publicKey).slice(0, 16)}…` : options.keyless ? options.keyless.certificateIdentity : null,
  };
}

/** Every file and link under `dir` (relative, `/`-separated) that is neither listed nor one of UNINDEXED; folders do not count. */
async function unlistedFiles(dir: string, listed: ReadonlySet<string>): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((name) => !listed.has(name) && !UNINDEXED.has(name))
    .sort();
}
