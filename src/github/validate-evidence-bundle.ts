import type { KeyObject } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EvidenceFile } from '../constants.js';
import { errorMessage, isQfError } from '../errors.js';
import type { Evidence } from '../evidence/schema.js';
import { verifyEvidence } from '../evidence/verify-evidence.js';
import type { ApprovalSource } from '../orchestrator/types.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import { rejudgeEvidence } from './rejudge-evidence.js';

/** evidence.json larger than this is refused before parsing: the bundle is untrusted input. */
const MAX_EVIDENCE_BYTES = 32 * 1024 * 1024;

export type BundleCheck = { ok: true; evidence: Evidence } | { ok: false; problems: string[] };

/**
 * Checks an evidence bundle from an untrusted run (a fork's pull request) before anything of it is
 * believed: its size, then the core's strict verification (the same as `qf verify`: no unknown
 * members, duplicate keys or unlisted files, every file's size and sha256, the audit chain and its
 * seal, and the signature when a key is configured), then that it is about the commit the workflow run was for and was judged with
 * the base commit's policy. The seal only proves the file was not edited after sealing by someone who
 * could not recompute it; the binding to the head SHA and the base policy is what we can check here.
 */
export async function validateEvidenceBundle(dir: string, expected: BundleExpectations): Promise<BundleCheck> {
  try {
    return await checkBundle(dir, expected);
  } catch (error) {
    // The bundle is untrusted: whatever in it trips a check up, it is rejected, never an unexpected error.
    if (isQfError(error, 'GITHUB_API')) throw error;
    return { ok: false, problems: [`the bundle could not be checked: ${errorMessage(error)}`] };
  }
}

export interface BundleExpectations {
  headSha: string;
  /** When set, the bundle must be signed by this key (input `verify-key`). */
  publicKey?: KeyObject;
  policySha256?: string;
  rejudge?: { policy: LoadedPolicy; approvals: ApprovalSource };
}

async function checkBundle(dir: string, expected: BundleExpectations): Promise<BundleCheck> {
  const file = join(dir, EvidenceFile.evidence);
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return { ok: false, problems: [`${EvidenceFile.evidence} is missing from the artifact`] };
  if (info.size > MAX_EVIDENCE_BYTES)
    return { ok: false, problems: [`${EvidenceFile.evidence} is ${info.size} bytes, more than the ${MAX_EVIDENCE_BYTES} accepted`] };

  const check = await verifyEvidence(dir, expected.publicKey ? { publicKey: expected.publicKey } : {});
  if (!check.ok) return { ok: false, problems: [check.problem] };
  const { evidence } = check;
  const problems: string[] = [];
  if (evidence.change.head !== expected.headSha) {
    problems.push(`the evidence is about commit ${evidence.change.head ?? 'none'}, the workflow run was for ${expected.headSha}`);
  }
  if (expected.policySha256 && evidence.policy.sha256 !== expected.policySha256) {
    problems.push(
      `the evidence was judged with policy ${evidence.policy.sha256.slice(0, 12)}…, the base commit's policy is ${expected.policySha256.slice(0, 12)}…`,
    );
  }
  if (problems.length === 0 && expected.rejudge) problems.push(...(await rejudgeEvidence(evidence, expected.rejudge.policy, expected.rejudge.approvals)));
  return problems.length ? { ok: false, problems } : { ok: true, evidence };
}
