import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { hashConfinedFile, MAX_STEP_FILE_BYTES } from '../util/open-confined-file.js';
import type { ArtifactEntry } from './schema.js';

/** sha256 of a regular file, read without following a final link or blocking on a pipe. */
export async function sha256File(file: string, within = path.dirname(file)): Promise<string> {
  return (await hashConfinedFile(file, { within, maxBytes: Number.MAX_SAFE_INTEGER })).sha256;
}

/** A file left out of the index, and why (a link, a pipe, too large, outside the folder). */
export interface RefusedArtifact {
  path: string;
  reason: string;
}

/**
 * Every regular file under `dir` except those named in `exclude`, with size and sha256, sorted by
 * path. Entries in `known` (indexed earlier in the same run, not written since) are taken as they
 * are. Anything else a step may have left (a link to a host file, a pipe, a device, a file over
 * the size limit) is not read: it goes to `onRefused` instead.
 */
export async function indexArtifacts(
  dir: string,
  exclude: readonly string[],
  known: readonly ArtifactEntry[] = [],
  onRefused: (refused: RefusedArtifact) => void = () => undefined,
): Promise<ArtifactEntry[]> {
  const already = new Map(known.map((entry) => [entry.path, entry]));
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const relative = (entry: { parentPath: string; name: string }) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
  for (const entry of entries) {
    if (!entry.isFile() && !entry.isDirectory()) onRefused({ path: relative(entry), reason: 'not a regular file (a link, pipe or device)' });
  }
  const files = entries
    .filter((entry) => entry.isFile())
    .map(relative)
    .filter((name) => !exclude.includes(name))
    .sort();
  const indexed = await Promise.all(
    files.map(async (name): Promise<ArtifactEntry | undefined> => {
      const earlier = already.get(name);
      if (earlier) return earlier;
      try {
        return { path: name, ...(await hashConfinedFile(path.join(dir, name), { within: dir, maxBytes: MAX_STEP_FILE_BYTES })) };
      } catch (error) {
        onRefused({ path: name, reason: (error as Error).message });
        return undefined;
      }
    }),
  );
  return indexed.filter((entry): entry is ArtifactEntry => entry !== undefined);
}
