import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { QfError } from '../errors.js';

/**
 * DSSE (Dead Simple Signing Envelope, the envelope in-toto and Sigstore use): a signature over
 * PAE(payloadType, payload), so a signature can never be replayed as one over another type. Node's
 * crypto signs with ed25519 and ECDSA P-256 itself; the envelope format is a few lines.
 */
export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the payload bytes. */
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** The DSSE v1 pre-authentication encoding. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** A private signing key from PEM text: ed25519 or ECDSA on P-256, nothing else. */
export function signingKeyFromPem(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new QfError(
      'BAD_INPUT',
      `${where}: not a PEM private key (${(error as Error).message}); expected an ed25519 or ECDSA P-256 key, e.g. from \`openssl genpkey -algorithm ed25519\`.`,
      { cause: error },
    );
  }
  checkAlgorithm(key, where);
  return key;
}

/** A public verification key from PEM text (a private key is accepted too: its public half is used). */
export function verificationKeyFromPem(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new QfError(
      'BAD_INPUT',
      `${where}: not a PEM public key (${(error as Error).message}); expected an ed25519 or ECDSA P-256 key, e.g. from \`openssl pkey -pubout\`.`,
      { cause: error },
    );
  }
  checkAlgorithm(key, where);
  return key;
}

function checkAlgorithm(key: KeyObject, where: string): void {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return;
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new QfError('BAD_INPUT', `${where}: a ${type ?? 'unknown'}${curve ? ` (${curve})` : ''} key; expected ed25519 or ECDSA P-256.`);
}

/** sha256 of the public key's SubjectPublicKeyInfo: names the key in the envelope and in messages. */
export function keyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** ECDSA signs the SHA-256 of the message (DER signature); ed25519 signs the message itself. */
const digestFor = (key: KeyObject) => (key.asymmetricKeyType === 'ed25519' ? null : 'sha256');

export function signEnvelope(payloadType: string, payload: Buffer, key: KeyObject): DsseEnvelope {
  const sig = sign(digestFor(key), preAuthEncoding(payloadType, payload), key);
  return { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: keyId(key), sig: sig.toString('base64') }] };
}

/** Whether any signature of the envelope is by `key` over its payload. */
export function envelopeSignedBy(envelope: DsseEnvelope, key: KeyObject): boolean {
  const message = preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  return envelope.signatures.some((signature) => {
    try {
      return verify(digestFor(key), message, key, Buffer.from(signature.sig, 'base64'));
    } catch {
      return false; // a malformed signature is simply not a valid one
    }
  });
}
