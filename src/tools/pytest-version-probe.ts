import type { ToolVersions } from './tool-definition.js';

/** The probe that reads Python's and pytest's versions; `-I` so nothing in the repository is imported. */
export const VERSION_PROBE_ARGS = [
  '-I',
  '-c',
  'import sys\nprint(sys.version.split()[0])\ntry:\n import pytest; print(pytest.__version__)\nexcept Exception: print("")',
];

export function parseVersionProbe(stdout: string): ToolVersions {
  const [python, pytest] = stdout.split('\n').map((line) => line.trim());
  return { python: python || null, pytest: pytest || null };
}
