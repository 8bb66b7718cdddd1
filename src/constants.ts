/** Every name that crosses a boundary (exit codes, check runs, files, metrics) lives here once. */

/** Documented process exit codes of `qf` and of the Action's step outcome. */
export const ExitCode = {
  pass: 0,
  gateFailed: 1,
  badInput: 2,
  waitingForHuman: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const CheckRunName = {
  gate: 'qualityfoundry/gate',
  plan: 'qualityfoundry/plan',
  approval: 'qualityfoundry/approval',
} as const;

export const EvidenceFile = {
  evidence: 'evidence.json',
  summary: 'summary.md',
  runState: 'run-state.json',
  reportsDir: 'reports',
} as const;

export const DEFAULT_POLICY_PATH = '.github/qualityfoundry.yml';
export const EVIDENCE_SCHEMA_VERSION = 1;
export const POLICY_VERSION = 1;
