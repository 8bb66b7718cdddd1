import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { QfError } from '../errors.js';

function inside(root: string, candidate: string): boolean {
  const fromRoot = path.relative(root, candidate);
  return !(fromRoot === '..' || fromRoot.startsWith(`..${path.sep}`) || path.isAbsolute(fromRoot));
}

/** Resolves `relative` inside `root` and refuses anything that escapes it lexically (`..`, absolute paths). */
export function confinePath(root: string, relative: string, what: string): string {
  const resolved = path.resolve(root, relative);
  if (!inside(root, resolved)) {
    throw new QfError('BAD_INPUT', `${what} "${relative}" is outside the repository ${root}; expected a path inside it.`);
  }
  return resolved;
}

/** Links followed at most, as the kernel does (ELOOP). */
const MAX_LINKS = 40;

/**
 * The real path of `target`, or, where it does not exist yet, of its longest existing ancestor
 * with the rest appended. A dangling link counts as its target, so it cannot smuggle a path out.
 */
async function realpathOfExisting(target: string, links = 0): Promise<string> {
  const missing: string[] = [];
  let current = target;
  for (;;) {
    try {
      return path.join(await realpath(current), ...missing.reverse());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const info = await lstat(current).catch(() => undefined);
      if (info?.isSymbolicLink()) {
        if (links >= MAX_LINKS) throw error;
        const pointsTo = path.resolve(path.dirname(current), await readlink(current));
        return realpathOfExisting(path.join(pointsTo, ...missing.reverse()), links + 1);
      }
      const parent = path.dirname(current);
      if (parent === current) throw error;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

/**
 * Like confinePath, but on resolved real paths: the repository is hostile and may hold a symlink
 * (`tests -> /`) that a lexical check lets through. Every link on the way is followed, and the
 * result must still be inside the repository's own real path. `relative` is resolved against
 * `base` (default: the root), as a tool resolves its paths against its working directory. Returns
 * the resolved path expressed under `root`, so it names the same place inside a container where
 * the repository is mounted at `root`.
 */
export async function confineRealPath(root: string, relative: string, what: string, base = root): Promise<string> {
  const lexical = path.resolve(base, relative);
  if (!inside(root, lexical)) {
    throw new QfError('BAD_INPUT', `${what} "${relative}" is outside the repository ${root}; expected a path inside it.`);
  }
  const realRoot = await realpath(root);
  const real = await realpathOfExisting(lexical);
  if (!inside(realRoot, real)) {
    throw new QfError('BAD_INPUT', `${what} "${relative}" resolves to ${real}, outside the repository ${root}; expected a path inside it.`);
  }
  return path.join(root, path.relative(realRoot, real));
}
