import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of the Actions results service (Twirp, JSON) and of the Azure Blob endpoint its signed
 * URLs point to, speaking what @actions/artifact v2+ sends: CreateArtifact → block PUTs (comp=block)
 * and a block list PUT (comp=blocklist), or one BlockBlob PUT → FinalizeArtifact with size and sha256.
 * Blob GETs serve the zip back for downloads.
 */
export interface StoredArtifact {
  id: number;
  name: string;
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
  /** The workflow run (REST id) the artifact belongs to, for the REST listing of the fake GitHub. */
  runId: number;
  blob: Buffer | null;
  size: number;
  /** `sha256:<hex>` as FinalizeArtifact reported it. */
  digest: string | null;
  finalized: boolean;
}

export interface ArtifactServiceCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.ArtifactService/';

export class FakeArtifactService {
  readonly calls: ArtifactServiceCall[] = [];
  readonly artifacts: StoredArtifact[] = [];
  /** The run id new uploads are filed under (the test sets it to GITHUB_RUN_ID). */
  currentRunId = 1;
  readonly #blocks = new Map<string, Map<string, Buffer>>();
  #nextId = 9000;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly token: string,
  ) {}

  static async start(options: { token: string }): Promise<FakeArtifactService> {
    let service: FakeArtifactService | undefined;
    const server = createServer((request, response) => {
      void service!.#handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ code: 'internal', msg: String(error) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    service = new FakeArtifactService(server, `http://127.0.0.1:${port}`, options.token);
    return service;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Stores a finished artifact directly (for publish-mode tests: the other workflow's upload). */
  seed(options: { name: string; runId: number; zip: Buffer }): StoredArtifact {
    const artifact: StoredArtifact = {
      id: this.#nextId++,
      name: options.name,
      workflowRunBackendId: `run-${options.runId}`,
      workflowJobRunBackendId: 'job-seeded',
      runId: options.runId,
      blob: options.zip,
      size: options.zip.length,
      digest: `sha256:${createHash('sha256').update(options.zip).digest('hex')}`,
      finalized: true,
    };
    this.artifacts.push(artifact);
    return artifact;
  }

  /** The signed URL of an artifact's blob (the fake GitHub redirects artifact downloads here). */
  blobUrl(artifact: StoredArtifact): string {
    return `${this.url}/blob/${artifact.id}/${encodeURIComponent(artifact.name)}.zip?sig=fake-signature&se=2099-01-01`;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const raw = await readBody(request);
    const query = Object.fromEntries(url.searchParams);
    if (url.pathname.startsWith(TWIRP_PREFIX)) {
      const body: unknown = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      this.calls.push({ method: request.method ?? '', path: url.pathname, query, body });
      if (request.headers.authorization !== `Bearer ${this.token}`) return twirpError(response, 401, 'unauthenticated', 'invalid runtime token');
      return this.#twirp(url.pathname.slice(TWIRP_PREFIX.length), body as Record<string, unknown>, response);
    }
    this.calls.push({
      method: request.method ?? '',
      path: url.pathname,
      query,
      body: query.comp === 'blocklist' ? raw.toString('utf8') : { bytes: raw.length },
    });
    const match = /^\/blob\/(\d+)\//.exec(url.pathname);
    const artifact = match ? this.artifacts.find((candidate) => candidate.id === Number(match[1])) : undefined;
    if (!artifact || query.sig !== 'fake-signature') return blobError(response, 403, 'AuthenticationFailed');
    if (request.method === 'GET') {
      if (!artifact.finalized || !artifact.blob) return blobError(response, 404, 'BlobNotFound');
      response.writeHead(200, {
        'content-type': 'application/zip',
        'content-length': artifact.blob.length,
        'content-disposition': `attachment; filename="${artifact.name}.zip"; filename*=UTF-8''${encodeURIComponent(artifact.name)}.zip`,
      });
      response.end(artifact.blob);
      return;
    }
    if (request.method !== 'PUT') return blobError(response, 405, 'UnsupportedHttpVerb');
    const blocks = this.#blocks.get(String(artifact.id)) ?? new Map<string, Buffer>();
    this.#blocks.set(String(artifact.id), blocks);
    if (query.comp === 'block') {
      if (!query.blockid) return blobError(response, 400, 'InvalidQueryParameterValue');
      blocks.set(query.blockid, raw);
    } else if (query.comp === 'blocklist') {
      const ids = [...raw.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]+)<\//g)].map((m) => m[1]!);
      const parts = ids.map((id) => blocks.get(id));
      if (parts.some((part) => part === undefined)) return blobError(response, 400, 'InvalidBlockList');
      artifact.blob = Buffer.concat(parts as Buffer[]);
    } else if (request.headers['x-ms-blob-type'] === 'BlockBlob') {
      artifact.blob = raw;
    } else {
      return blobError(response, 400, 'MissingRequiredHeader');
    }
    response.writeHead(201, {
      etag: '"0x8DB000000000000"',
      'last-modified': new Date().toUTCString(),
      'x-ms-request-id': 'fake',
      'x-ms-version': '2024-11-04',
      'x-ms-request-server-encrypted': 'true',
      'content-length': 0,
    });
    response.end();
  }

  #twirp(method: string, body: Record<string, unknown>, response: ServerResponse): void {
    const runBackend = String(body.workflow_run_backend_id ?? '');
    const jobBackend = String(body.workflow_job_run_backend_id ?? '');
    if (method === 'CreateArtifact') {
      if (body.version !== 7 && body.version !== 4) return twirpError(response, 400, 'invalid_argument', `unsupported version ${String(body.version)}`);
      const name = String(body.name ?? '');
      if (this.artifacts.some((artifact) => artifact.runId === this.currentRunId && artifact.name === name)) {
        return twirpError(response, 409, 'already_exists', `an artifact named ${name} already exists in this run`);
      }
      const artifact: StoredArtifact = {
        id: this.#nextId++,
        name,
        workflowRunBackendId: runBackend,
        workflowJobRunBackendId: jobBackend,
        runId: this.currentRunId,
        blob: null,
        size: 0,
        digest: null,
        finalized: false,
      };
      this.artifacts.push(artifact);
      return twirpOk(response, { ok: true, signed_upload_url: this.blobUrl(artifact) });
    }
    if (method === 'FinalizeArtifact') {
      const artifact = this.artifacts.find(
        (candidate) => candidate.name === body.name && candidate.workflowRunBackendId === runBackend && !candidate.finalized,
      );
      if (!artifact?.blob) return twirpError(response, 404, 'not_found', 'artifact not found or not uploaded');
      const digest = `sha256:${createHash('sha256').update(artifact.blob).digest('hex')}`;
      if (body.hash !== undefined && body.hash !== digest)
        return twirpError(response, 400, 'invalid_argument', `hash mismatch: ${String(body.hash)} != ${digest}`);
      if (Number(body.size) !== artifact.blob.length)
        return twirpError(response, 400, 'invalid_argument', `size mismatch: ${String(body.size)} != ${artifact.blob.length}`);
      artifact.size = artifact.blob.length;
      artifact.digest = digest;
      artifact.finalized = true;
      return twirpOk(response, { ok: true, artifact_id: String(artifact.id) });
    }
    return twirpError(response, 404, 'bad_route', `no handler for ${method}`);
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function twirpOk(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function twirpError(response: ServerResponse, status: number, code: string, msg: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ code, msg }));
}

function blobError(response: ServerResponse, status: number, code: string): void {
  response.writeHead(status, { 'content-type': 'application/xml', 'x-ms-error-code': code });
  response.end(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
}
