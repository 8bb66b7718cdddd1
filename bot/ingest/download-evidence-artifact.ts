import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_ARTIFACT_NAME } from '../../src/constants.js';
import { errorMessage, isQfError } from '../../src/errors.js';
import { callGitHub, GitHubApiError } from '../../src/github/call-github.js';
import { extractZip } from '../../src/github/extract-zip.js';
import type { ReviewScope } from '../review/review-types.js';

/** A larger zip is refused: before the download by its listed size, and during it by the bytes that arrive. */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

export type DownloadedEvidence =
  | { ok: true; dir: string; artifactId: number; zipSha256: string | null; cleanup(): Promise<void> }
  | { ok: false; problem: string; missing?: true };

/**
 * Lists a workflow run's artifacts, streams the evidence zip to a temp file (counting and hashing
 * the bytes as they arrive: past MAX_ARTIFACT_BYTES, or a sha256 other than the one GitHub lists,
 * it is refused) and extracts it, streaming, with the Action's safe extractor (no `..`, no zip
 * bombs) into a fresh temp folder. Memory stays bounded whatever the artifact's size. What is in it
 * is not yet believed.
 */
export async function downloadEvidenceArtifact(scope: ReviewScope, runId: number, name = DEFAULT_ARTIFACT_NAME): Promise<DownloadedEvidence> {
  const listed = await callGitHub("list the workflow run's artifacts", () =>
    scope.octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts', { ...scope.repo, run_id: runId, name, per_page: 100 }),
  );
  const artifact = listed.data.artifacts.find((candidate) => candidate.name === name && !candidate.expired);
  if (!artifact) return { ok: false, problem: `workflow run ${runId} has no artifact "${name}"`, missing: true };
  if (artifact.size_in_bytes > MAX_ARTIFACT_BYTES)
    return { ok: false, problem: `artifact "${name}" is ${artifact.size_in_bytes} bytes, more than the ${MAX_ARTIFACT_BYTES} accepted` };
  const zip = await callGitHub('download the evidence artifact', () =>
    scope.octokit.request('GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}', {
      ...scope.repo,
      artifact_id: artifact.id,
      archive_format: 'zip',
      // The body as a stream, not a buffer of the whole zip.
      request: { parseSuccessResponseBody: false },
    }),
  );
  const work = await mkdtemp(join(tmpdir(), 'qf-bot-evidence-'));
  const cleanup = () => rm(work, { recursive: true, force: true });
  const zipFile = join(work, 'artifact.zip');
  const dir = join(work, 'bundle');
  const listedSha256 = artifact.digest?.replace(/^sha256:/, '') ?? null;
  try {
    const body = zip.data as unknown as WebReadableStream<Uint8Array> | null;
    const received = await saveLimited(body, zipFile, MAX_ARTIFACT_BYTES);
    if (!received.ok) {
      await cleanup();
      return { ok: false, problem: `artifact "${name}": ${received.problem}` };
    }
    if (listedSha256 !== null && received.sha256 !== listedSha256) {
      await cleanup();
      return { ok: false, problem: `artifact "${name}" downloaded with sha256 ${received.sha256}, GitHub lists ${listedSha256}` };
    }
    await mkdir(dir);
    await extractZip(zipFile, dir);
    await rm(zipFile);
  } catch (error) {
    await cleanup();
    // A download that broke off is GitHub's failure (the delivery is retried), not the bundle's.
    if (isQfError(error, 'GITHUB_API')) throw error;
    return { ok: false, problem: errorMessage(error) };
  }
  return { ok: true, dir, artifactId: artifact.id, zipSha256: listedSha256, cleanup };
}

type Saved = { ok: true; bytes: number; sha256: string } | { ok: false; problem: string };

/** Streams `body` to `file`, hashing it; more than `maxBytes` stops the download there. */
async function saveLimited(body: WebReadableStream<Uint8Array> | null, file: string, maxBytes: number): Promise<Saved> {
  const hash = createHash('sha256');
  let bytes = 0;
  let over = false;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        over = true;
        return done(new Error('too large'));
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body ? Readable.fromWeb(body) : Readable.from([]), count, createWriteStream(file, { flags: 'wx' }));
  } catch (error) {
    if (over) return { ok: false, problem: `the download passed ${maxBytes} bytes, more than accepted (its listed size was smaller)` };
    throw new GitHubApiError(`Could not download the evidence artifact: it broke off after ${bytes} bytes (${errorMessage(error)})`, null, error);
  }
  return { ok: true, bytes, sha256: hash.digest('hex') };
}
