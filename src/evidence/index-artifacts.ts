import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ArtifactEntry } from './schema.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Every file under `dir` except those named in `exclude`, with size and sha256, sorted by path.
 * Entries in `known` (indexed earlier in the same run, not written since) are taken as they are.
 */
export async function indexArtifacts(dir: string, exclude: readonly string[], known: readonly ArtifactEntry[] = []): Promise<ArtifactEntry[]> {
  const already = new Map(known.map((entry) => [entry.path, entry]));
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((relative) => !exclude.includes(relative))
    .sort();
  return Promise.all(
    files.map(async (relative) => {
      const indexed = already.get(relative);
      if (indexed) return indexed;
      const absolute = path.join(dir, relative);
      const [info, sha256] = await Promise.all([stat(absolute), sha256File(absolute)]);
      return { path: relative, size: info.size, sha256 };
    }),
  );
}
