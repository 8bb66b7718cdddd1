import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashAuditEvent } from '../../src/audit/audit-chain.js';
import { indexArtifacts } from '../../src/evidence/index-artifacts.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { evidenceSealDigest } from '../../src/evidence/write-evidence.js';

/** What a forger who can run qf's own code does: edit the evidence, re-index, re-seal, so that the plain checks pass. */
export async function forgeAndReseal(dir: string, edit: (evidence: Evidence) => void | Promise<void>): Promise<void> {
  const file = path.join(dir, 'evidence.json');
  const evidence = JSON.parse(await readFile(file, 'utf8')) as Evidence;
  await edit(evidence);
  evidence.artifacts = await indexArtifacts(dir, ['evidence.json', 'run-state.json', 'evidence.dsse.json', 'evidence.sigstore.json', '.gitignore']);
  const seal = evidence.audit.pop()!;
  seal.data = { ...seal.data, digest: evidenceSealDigest(evidence) };
  const { hash: _hash, ...unsealed } = seal;
  evidence.audit.push({ ...unsealed, hash: hashAuditEvent(unsealed) });
  await writeFile(file, `${JSON.stringify(evidence, null, 2)}\n`);
}
