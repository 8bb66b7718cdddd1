import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { EvidenceFile } from '../constants.js';
import { sha256Hex } from '../util/canonical-json.js';
import { evidenceStatement, IN_TOTO_PAYLOAD_TYPE, type StatementSource } from './evidence-statement.js';
import { writeFileAtomic } from './output-folder.js';
import { readEvidence } from './read-evidence.js';
import { readSignatureJson, signedStatementProblem } from './sign-evidence.js';

/**
 * Keyless signing with Sigstore: the workflow's OIDC token gets a short-lived certificate from Fulcio
 * for an ephemeral key, which signs the same in-toto Statement the key mode signs (DSSE); Rekor logs
 * it. Nothing secret is kept anywhere, and a verifier checks who signed (the workflow's identity in
 * the certificate) instead of holding a public key. This module is loaded only when a run signs or
 * verifies this way (the Sigstore client is a lazily loaded chunk of the Action).
 */
export interface KeylessSigning {
  /** The OIDC identity token (GitHub Actions: `core.getIDToken('sigstore')`). */
  identityToken: string;
  fulcioUrl: string;
  rekorUrl: string;
}

export interface KeylessIdentity {
  /** The certificate's subject alternative name: for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/F.yml@REF. */
  certificateIdentity: string;
  /** The OIDC issuer recorded by Fulcio: https://token.actions.githubusercontent.com for GitHub Actions. */
  certificateOidcIssuer: string;
  /** TrustedRoot JSON (Sigstore's protobuf-specs format) naming the CA and logs to trust. */
  trustedRoot: unknown;
}

/** Signs a sealed evidence folder keyless: writes evidence.sigstore.json and returns the signing identity. */
export async function signEvidenceKeyless(dir: string, signing: KeylessSigning): Promise<string> {
  const file = path.join(dir, EvidenceFile.evidence);
  const bytes = await readFile(file);
  const statement = evidenceStatement(await readEvidence(file, bytes), sha256Hex(bytes));
  const builder = new DSSEBundleBuilder({
    signer: new FulcioSigner({ fulcioBaseURL: signing.fulcioUrl, identityProvider: { getToken: async () => signing.identityToken } }),
    witnesses: [new RekorWitness({ rekorBaseURL: signing.rekorUrl })],
  });
  const bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: IN_TOTO_PAYLOAD_TYPE });
  await writeFileAtomic(path.join(dir, EvidenceFile.sigstoreBundle), `${JSON.stringify(bundleToJSON(bundle), null, 2)}\n`);
  const material = bundle.verificationMaterial.content;
  const der =
    material.$case === 'certificate'
      ? material.certificate.rawBytes
      : material.$case === 'x509CertificateChain'
        ? material.x509CertificateChain.certificates[0]!.rawBytes
        : null;
  return der ? (new X509Certificate(der).subjectAltName ?? 'unnamed').replace(/^URI:/, '') : 'unknown';
}

/**
 * Checks evidence.sigstore.json: the certificate chains to a CA of the trusted root and names the
 * expected identity and issuer; the Rekor entry is included in a log the root trusts and matches the
 * signature; the signature holds; and the signed Statement is exactly this evidence. Returns the
 * problem, or null.
 */
export async function checkEvidenceKeyless(dir: string, evidence: StatementSource, evidenceBytes: Buffer, expected: KeylessIdentity): Promise<string | null> {
  const read = await readSignatureJson(dir, EvidenceFile.sigstoreBundle, 'a certificate identity was given');
  if ('problem' in read) return read.problem;
  let root: TrustedRoot;
  let trust: ReturnType<typeof toTrustMaterial>;
  try {
    root = TrustedRoot.fromJSON(expected.trustedRoot);
    trust = toTrustMaterial(root);
  } catch (error) {
    return `the trusted root is not a Sigstore TrustedRoot: ${(error as Error).message}`;
  }
  // The public-good root lists certificate transparency logs: where a root does, a certificate must carry an SCT.
  const ctlogThreshold = root.ctlogs.length > 0 ? 1 : 0;
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(read.value);
  } catch (error) {
    return `${EvidenceFile.sigstoreBundle} is not a Sigstore bundle: ${(error as Error).message}`;
  }
  if (bundle.content.$case !== 'dsseEnvelope') return `${EvidenceFile.sigstoreBundle} signs a message, not a DSSE envelope`;
  if (bundle.content.dsseEnvelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return `${EvidenceFile.sigstoreBundle} has payload type ${JSON.stringify(bundle.content.dsseEnvelope.payloadType)}, expected ${IN_TOTO_PAYLOAD_TYPE}`;
  try {
    new Verifier(trust, { ctlogThreshold }).verify(toSignedEntity(bundle), {
      subjectAlternativeName: expected.certificateIdentity,
      extensions: { issuer: expected.certificateOidcIssuer },
    });
  } catch (error) {
    return `${EvidenceFile.sigstoreBundle} does not verify: ${(error as Error).message}`;
  }
  return signedStatementProblem(bundle.content.dsseEnvelope.payload, evidence, evidenceBytes);
}
