/**
 * Local stand-ins for what keyless signing talks to, which this machine cannot reach: GitHub's OIDC
 * token endpoint (what `core.getIDToken` calls), a Fulcio CA (POST /api/v2/signingCert) and a Rekor
 * transparency log (POST /api/v1/log/entries). Each works the way the real one answers: Fulcio checks
 * the proof of possession and issues a short-lived certificate for the token's workflow identity,
 * signed by its own CA; Rekor canonicalizes the DSSE entry, signs the entry timestamp and a checkpoint,
 * and proves inclusion (each entry is its own one-leaf tree). `trustedRoot` is what a verifier trusts.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify, webcrypto } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import { canonicalJson as canonicalize } from '../../src/util/canonical-json.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** The Fulcio extension (v1) that names the OIDC issuer, as raw ASCII. */
const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

export interface FakeSigstore {
  url: string;
  /** What the runner's ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN would be. */
  oidc: { requestUrl: string; requestToken: string };
  /** The certificate identity Fulcio puts in the SAN for this fake's tokens. */
  identity: string;
  /** TrustedRoot (protobuf JSON) naming this fake's CA and log. */
  trustedRoot: Record<string, unknown>;
  requests: { method: string; path: string; body: unknown }[];
  close(): Promise<void>;
}

const b64 = (bytes: Buffer | ArrayBuffer) => Buffer.from(bytes as ArrayBuffer).toString('base64');
const spkiDer = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startFakeSigstore(options: { workflowRef?: string } = {}): Promise<FakeSigstore> {
  const workflowRef = options.workflowRef ?? 'Codertocat/Hello-World/.github/workflows/quality.yml@refs/pull/2/merge';
  const identity = `https://github.com/${workflowRef}`;
  const requestToken = 'fake-id-token-request-token';
  const notBefore = new Date(Date.now() - 60 * 60_000);

  const caKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=fake-fulcio-root, O=QualityFoundry tests',
    notBefore,
    notAfter: new Date(Date.now() + 24 * 60 * 60_000),
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const log = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const logId = createHash('sha256').update(spkiDer(log.publicKey)).digest();
  let logIndex = 0;
  let serial = 2;
  const requests: FakeSigstore['requests'] = [];

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: Error) => send(response, 500, { message: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A checkpoint names its log; the verifier matches that name against the log's URL.
  const origin = `127.0.0.1 - ${logId.subarray(0, 8).toString('hex')}`;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? JSON.parse(text) : undefined;
    const path = new URL(request.url ?? '/', url);
    requests.push({ method: request.method ?? 'GET', path: path.pathname, body });

    if (request.method === 'GET' && path.pathname === '/oidc/token') {
      if (request.headers.authorization !== `Bearer ${requestToken}`) return send(response, 401, { message: 'bad request token' });
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: GITHUB_OIDC_ISSUER,
        aud: path.searchParams.get('audience') ?? '',
        sub: 'repo:Codertocat/Hello-World:pull_request',
        job_workflow_ref: workflowRef,
        iat: now,
        exp: now + 300,
      };
      return send(response, 200, { value: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.` });
    }

    if (request.method === 'POST' && path.pathname === '/api/v2/signingCert') {
      const token: string = body.credentials.oidcIdentityToken;
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
      if (claims.iss !== GITHUB_OIDC_ISSUER || claims.aud !== 'sigstore') return send(response, 401, { message: 'token not for sigstore' });
      const publicKey = createPublicKey(body.publicKeyRequest.publicKey.content);
      // Proof of possession: the key signed the token's subject.
      if (!verify('sha256', Buffer.from(claims.sub), publicKey, Buffer.from(body.publicKeyRequest.proofOfPossession, 'base64')))
        return send(response, 400, { message: 'proof of possession failed' });
      const leafKey = await webcrypto.subtle.importKey('spki', spkiDer(publicKey), ALGORITHM, true, ['verify']);
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject: '',
        issuer: ca.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 10 * 60_000),
        signingKey: caKeys.privateKey,
        publicKey: leafKey,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `https://github.com/${claims.job_workflow_ref}` }], true),
          await x509.AuthorityKeyIdentifierExtension.create(ca),
          new x509.Extension(OID_ISSUER_V1, false, Buffer.from(claims.iss, 'ascii')),
        ],
      });
      return send(response, 201, { signedCertificateEmbeddedSct: { chain: { certificates: [leaf.toString('pem'), ca.toString('pem')] } } });
    }

    if (request.method === 'POST' && path.pathname === '/api/v1/log/entries') {
      if (body?.kind !== 'dsse') return send(response, 400, { message: `unsupported kind ${body?.kind}` });
      const envelope = JSON.parse(body.spec.proposedContent.envelope);
      const verifier: string = body.spec.proposedContent.verifiers[0];
      // What Rekor stores for a dsse entry: digests and the signature, canonical (sorted keys).
      const stored = {
        apiVersion: '0.0.1',
        kind: 'dsse',
        spec: {
          envelopeHash: { algorithm: 'sha256', value: createHash('sha256').update(body.spec.proposedContent.envelope).digest('hex') },
          payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(Buffer.from(envelope.payload, 'base64')).digest('hex') },
          signatures: [{ signature: envelope.signatures[0].sig, verifier }],
        },
      };
      const canonical = Buffer.from(canonicalize(stored));
      const index = logIndex++;
      const integratedTime = Math.floor(Date.now() / 1000);
      const set = sign(
        'sha256',
        Buffer.from(canonicalize({ body: canonical.toString('base64'), integratedTime, logIndex: index, logID: logId.toString('hex') })),
        log.privateKey,
      );
      const root = createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), canonical]))
        .digest();
      const note = `${origin}\n1\n${root.toString('base64')}\n`;
      const noteSignature = Buffer.concat([logId.subarray(0, 4), sign('sha256', Buffer.from(note), log.privateKey)]);
      const entry = {
        body: canonical.toString('base64'),
        integratedTime,
        logID: logId.toString('hex'),
        logIndex: index,
        verification: {
          signedEntryTimestamp: set.toString('base64'),
          inclusionProof: {
            logIndex: 0,
            treeSize: 1,
            rootHash: root.toString('hex'),
            hashes: [],
            checkpoint: `${note}\n\u2014 ${origin.split(' ')[0]} ${noteSignature.toString('base64')}\n`,
          },
        },
      };
      return send(response, 201, { [`${logId.toString('hex').slice(0, 16)}${index.toString(16).padStart(48, '0')}`]: entry });
    }
    send(response, 404, { message: `no route ${request.method} ${path.pathname}` });
  }

  const validFor = { start: notBefore.toISOString() };
  return {
    url,
    // As on a runner: core.getIDToken appends `&audience=…` to this URL.
    oidc: { requestUrl: `${url}/oidc/token?api-version=2.0`, requestToken },
    identity,
    trustedRoot: {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: url,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: b64(spkiDer(log.publicKey)), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
          logId: { keyId: b64(logId) },
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'QualityFoundry tests', commonName: 'fake-fulcio-root' },
          uri: url,
          certChain: { certificates: [{ rawBytes: b64(ca.rawData) }] },
          validFor,
        },
      ],
      ctlogs: [],
      timestampAuthorities: [],
    },
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
