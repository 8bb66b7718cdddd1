import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';

/**
 * Repository-relative suite files matching any of the globs, sorted. Only the folders the globs
 * name are walked (the fixed part of each glob), and links are not followed: the repository is the
 * pull request's, and a link could lead anywhere.
 */
export async function findSuiteFiles(repoDir: string, globs: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const glob of globs) {
    const { base, isGlob } = picomatch.scan(glob);
    if (!isGlob) {
      const stats = await lstat(path.join(repoDir, glob)).catch(() => undefined);
      if (stats?.isFile()) found.add(path.posix.normalize(glob));
      continue;
    }
    const isMatch = picomatch(glob, { dot: false });
    let entries;
    try {
      entries = await readdir(path.join(repoDir, base), { recursive: true, withFileTypes: true });
    } catch {
      continue; // the folder does not exist: nothing matches there
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const relative = path.relative(repoDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      if (!relative.startsWith('..') && isMatch(relative)) found.add(relative);
    }
  }
  return [...found].sort();
}
