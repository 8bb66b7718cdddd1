import path from 'node:path';
import { QfError } from '../errors.js';

/** Resolves `relative` inside `root` and refuses anything that escapes it (`..`, absolute paths). */
export function confinePath(root: string, relative: string, what: string): string {
  const resolved = path.resolve(root, relative);
  const fromRoot = path.relative(root, resolved);
  if (fromRoot.startsWith('..') || path.isAbsolute(fromRoot)) {
    throw new QfError('BAD_INPUT', `${what} "${relative}" is outside the repository ${root}; expected a path inside it.`);
  }
  return resolved;
}
