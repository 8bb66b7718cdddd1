import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ARTIFACT_NAME } from '../../src/constants.js';
import { callGitHub } from '../../src/github/call-github.js';
import { extractZip } from '../../src/github/extract-zip.js';
import type { ReviewScope } from '../review/review-types.js';

/** A larger zip is refused before it is downloaded: the artifact is untrusted input. */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

export type DownloadedEvidence =
  | { ok: true; dir: string; artifactId: number; zipSha256: string | null; cleanup(): Promise<void> }
  | { ok: false; problem: string; missing?: true };

/**
 * Lists a workflow run's artifacts, downloads the evidence zip and extracts it with the Action's
 * safe extractor (no `..`, no zip bombs) into a fresh temp folder. What is in it is not yet believed.
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
    }),
  );
  const bytes = Buffer.from(zip.data as ArrayBuffer);
  const dir = await mkdtemp(join(tmpdir(), 'qf-bot-evidence-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await extractZip(bytes, dir);
  } catch (error) {
    await cleanup();
    return { ok: false, problem: (error as Error).message };
  }
  return { ok: true, dir, artifactId: artifact.id, zipSha256: artifact.digest?.replace(/^sha256:/, '') ?? null, cleanup };
}
