import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QfError } from '../errors.js';
import type { RepoRef } from '../github/check-run-types.js';
import { extractZip } from '../github/extract-zip.js';
import type { ShardRef } from '../tools/partition-tests.js';

export interface UploadedArtifact {
  name: string;
  id: number | undefined;
  /** sha256 of the uploaded zip, as the artifact service records it. */
  sha256: string | undefined;
  url: string | undefined;
}

/** An uploaded artifact as the published summary names it: only the fields the service returned. */
export function artifactReference(artifact: UploadedArtifact | undefined) {
  return (
    artifact && {
      name: artifact.name,
      ...(artifact.id !== undefined ? { id: artifact.id } : {}),
      ...(artifact.sha256 ? { sha256: artifact.sha256 } : {}),
      ...(artifact.url ? { url: artifact.url } : {}),
    }
  );
}

/** Each shard of a matrix uploads under its own name (artifact names are unique per workflow run): `NAME-shard-2-of-3`. */
export function shardArtifactName(name: string, shard: ShardRef | undefined): string {
  return shard ? `${name}-shard-${shard.index}-of-${shard.total}` : name;
}

/** Uploads the whole evidence folder (evidence.json, summary.md, raw reports) as one artifact. */
export async function uploadEvidence(options: { dir: string; name: string; runUrl: string }): Promise<UploadedArtifact> {
  const files = await listFiles(options.dir);
  const client = await artifactClient();
  const { id, digest } = await client.uploadArtifact(options.name, files, options.dir);
  return { name: options.name, id, sha256: digest, url: id === undefined ? undefined : `${options.runUrl}/artifacts/${id}` };
}

/**
 * Downloads the evidence artifact another workflow run uploaded (publish mode). Its content is
 * untrusted: the caller validates it before believing any of it.
 */
export async function downloadEvidence(options: { name: string; runId: number; repo: RepoRef; token: string; dir: string }): Promise<UploadedArtifact> {
  const client = await artifactClient();
  const findBy = { token: options.token, workflowRunId: options.runId, repositoryOwner: options.repo.owner, repositoryName: options.repo.repo };
  let artifact;
  try {
    ({ artifact } = await client.getArtifact(options.name, { findBy }));
  } catch (error) {
    throw new QfError('EVIDENCE_INVALID', `Workflow run ${options.runId} has no artifact "${options.name}": ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
    });
  }
  // The library's own extractor follows `../` in entry names; take the raw zip and extract it safely.
  const zipDir = await mkdtemp(join(tmpdir(), 'qf-artifact-'));
  try {
    await client.downloadArtifact(artifact.id, { path: zipDir, findBy, skipDecompress: true });
    const [zipFile] = await listFiles(zipDir);
    if (!zipFile) throw new QfError('EVIDENCE_INVALID', `Artifact ${artifact.id} downloaded empty.`);
    await mkdir(options.dir, { recursive: true });
    await extractZip(zipFile, options.dir);
  } finally {
    await rm(zipDir, { recursive: true, force: true });
  }
  return { name: artifact.name, id: artifact.id, sha256: artifact.digest?.replace(/^sha256:/, ''), url: undefined };
}

/**
 * Loaded on first use: it is most of the bundle (start-up time), and @actions/github inside it fixes
 * its API base URL from GITHUB_API_URL when it is loaded.
 */
async function artifactClient() {
  const { DefaultArtifactClient } = await import('@actions/artifact');
  return new DefaultArtifactClient();
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
