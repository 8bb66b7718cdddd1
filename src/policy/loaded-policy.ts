import type { Policy } from './schema.js';

/** A policy after loading and validation, with where it came from. */
export interface LoadedPolicy {
  policy: Policy;
  /** Path as the user named it (repository-relative for the Action). */
  path: string;
  /** The commit or ref it was read at (the base SHA for pull requests); null for a local file. */
  sourceRef: string | null;
  /** sha256 of the file's bytes. */
  sha256: string;
}
