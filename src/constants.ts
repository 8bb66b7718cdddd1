/** Every name that crosses a boundary (exit codes, check runs, files, metrics) lives here once. */

/** Documented process exit codes of `qf` and of the Action's step outcome. */
/** Every exit code of `qf` and the Action (README, "Exit codes"); errors map to them in errors.ts. */
export const ExitCode = {
  pass: 0,
  gateFailed: 1,
  badInput: 2,
  waitingForHuman: 3,
  /** GitHub's API failed after retries, or qf itself failed (a bug): neither says anything about the change. */
  error: 4,
  /** Stopped by SIGINT/SIGTERM; the evidence is written, marked incomplete. 128 + SIGINT, as shells do. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const CheckRunName = {
  gate: 'qualityfoundry/gate',
  plan: 'qualityfoundry/plan',
  approval: 'qualityfoundry/approval',
  /** Created by the bot on `/qf hold`: in progress while held, success once released. */
  hold: 'qualityfoundry/hold',
  /** Created by the bot on `/qf resolve`: external_id `<conflict id>:<STRATEGY>`, success. */
  resolution: 'qualityfoundry/resolution',
} as const;

export const EvidenceFile = {
  evidence: 'evidence.json',
  summary: 'summary.md',
  runState: 'run-state.json',
  /** The DSSE envelope of a signed run (an in-toto Statement over evidence.json and every artifact). */
  signature: 'evidence.dsse.json',
  /** `qf run` keeps its evidence folder out of the user's `git status`; not an artifact of the run. */
  gitignore: '.gitignore',
  /** The Sigstore bundle of a keyless-signed run: the same Statement, a Fulcio certificate, a Rekor entry. */
  sigstoreBundle: 'evidence.sigstore.json',
  reportsDir: 'reports',
  /** A merged run's folder: each shard's bundle, `shards/<index>/`. */
  shardsDir: 'shards',
} as const;

export const DEFAULT_POLICY_PATH = '.github/qualityfoundry.yml';

/** The interpreter run_pytest uses when a step names none. */
export const DEFAULT_PYTHON = 'python3';
/** What run_pytest adds to the step's environment: Python writes no __pycache__ into the repository. */
export const PYTEST_EXTRA_ENV: Readonly<Record<string, string>> = { PYTHONDONTWRITEBYTECODE: '1' };
export const EVIDENCE_SCHEMA_VERSION = 1;
export const POLICY_VERSION = 1;

/** The Action's inputs, as named in action.yml (read only by src/action/inputs.ts). */
export const ActionInput = {
  policy: 'policy',
  githubToken: 'github-token',
  workingDirectory: 'working-directory',
  artifactName: 'artifact-name',
  approvalApp: 'approval-app',
  mode: 'mode',
  dryRun: 'dry-run',
  signingKey: 'signing-key',
  verifyKey: 'verify-key',
  shardIndex: 'shard-index',
  shardTotal: 'shard-total',
  timings: 'timings',
  apiUrl: 'api-url',
  apiToken: 'api-token',
  signKeyless: 'sign-keyless',
  sigstoreFulcioUrl: 'sigstore-fulcio-url',
  sigstoreRekorUrl: 'sigstore-rekor-url',
} as const;

/** The Action's outputs, as named in action.yml. */
export const ActionOutput = {
  verdict: 'verdict',
  planHash: 'plan-hash',
  evidencePath: 'evidence-path',
  checkRunId: 'check-run-id',
} as const;

export const DEFAULT_ARTIFACT_NAME = 'qualityfoundry-evidence';

/**
 * The evidence artifact's name in one attempt of a workflow run. GitHub keeps an artifact name for the
 * whole run, across attempts, and refuses a second upload under it (409): the re-run the bot asks for
 * after an approval is attempt 2 of the same run. The first attempt keeps the plain name; later ones
 * add theirs, so every attempt's evidence survives and a reader picks the attempt it was told about.
 */
export const evidenceArtifactName = (name: string, attempt: number): string => (attempt > 1 ? `${name}-attempt-${attempt}` : name);

/** The version written into evidence; kept equal to package.json's by a test. */
export const QF_VERSION = '0.1.0';
