import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICY_PATH, EvidenceFile } from '../../constants.js';
import { errorMessage, QfError } from '../../errors.js';
import { isRefusedFile, MAX_STEP_FILE_BYTES, readConfinedFile } from '../../util/open-confined-file.js';
import { signingKeyFromPem } from '../../evidence/dsse.js';
import { signEvidence } from '../../evidence/sign-evidence.js';
import { orchestrate } from '../../orchestrator/orchestrate.js';
import type { RunState } from '../../orchestrator/run-state.js';
import type { ProgressEvent } from '../../orchestrator/types.js';
import { changedFilesFromGit } from '../../planner/changed-files.js';
import { loadPolicyFile } from '../../policy/load-policy.js';
import { parseShardRef } from '../../tools/partition-tests.js';
import type { ShardSpec } from '../../tools/tool-definition.js';
import { readTimingHistory } from '../../tools/timing-history.js';
import { approvalsFileSource, approveFlagSource, noApprovals } from '../cli-approval-source.js';
import type { CliIo } from '../cli-io.js';
import { formatRunResult } from '../format-run-result.js';
import { openRunRecorder, type RunRecorder } from '../run-recorder.js';
import { STORE_FLAGS, storeConnectionFromFlags } from '../store-flags.js';
import { parseFlags } from '../parse-flags.js';

/** How often a long step reports that it is still running. */
const PROGRESS_INTERVAL_MS = 10_000;

function progressReporter(io: CliIo): (event: ProgressEvent) => void {
  let lastReport = 0;
  return (event) => {
    if (event.kind === 'step-started') {
      lastReport = performance.now();
      io.stderr(`▶ ${event.stepId} (${event.tool})${event.attempt > 1 ? `, attempt ${event.attempt}` : ''}\n`);
    } else if (event.kind === 'step-output' && performance.now() - lastReport >= PROGRESS_INTERVAL_MS) {
      lastReport = performance.now();
      io.stderr(`  … ${event.stepId} running, ${Math.round(event.elapsedMs / 1000)} s\n`);
    } else if (event.kind === 'step-finished') {
      io.stderr(`${event.status === 'passed' ? '✔' : '✗'} ${event.stepId} ${event.status} in ${(event.durationMs / 1000).toFixed(1)} s\n`);
    }
  };
}

export async function qfRunCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: {
      repo: { type: 'string' },
      policy: { type: 'string' },
      base: { type: 'string' },
      head: { type: 'string' },
      changed: { type: 'string', multiple: true },
      label: { type: 'string', multiple: true },
      out: { type: 'string' },
      approve: { type: 'boolean', default: false },
      approvals: { type: 'string' },
      resume: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'sign-key': { type: 'string' },
      shard: { type: 'string' },
      timings: { type: 'string' },
      'cache-dir': { type: 'string' },
      ...STORE_FLAGS,
    },
    strict: true,
  });
  if (!values.repo) throw new QfError('USAGE', '--repo DIR is required.');
  if (values.approve && values.approvals) throw new QfError('USAGE', 'Use either --approve or --approvals FILE, not both.');
  if (values.timings && !values.shard) throw new QfError('USAGE', '--timings FILE balances shards; it needs --shard I/N.');
  const shard = values.shard ? await shardFromFlags(values.shard, values.timings && path.resolve(io.cwd, values.timings)) : undefined;

  // Read before anything runs: a key that cannot sign is bad input, not a run whose evidence goes unsigned.
  const signKey = values['sign-key'] ? await readSigningKey(path.resolve(io.cwd, values['sign-key'])) : undefined;
  const repoDir = path.resolve(io.cwd, values.repo);
  const outDir = path.resolve(io.cwd, values.out ?? path.join(values.repo, 'qf-out'));
  const policyPath = values.policy ? path.resolve(io.cwd, values.policy) : path.join(repoDir, DEFAULT_POLICY_PATH);
  // git lists the changed files while the policy is read and checked. git's answer is awaited
  // first: a missing or non-git repository is named as such, not as a missing policy file inside
  // it. An earlier run's evidence folder (untracked) is not part of the change; anything the change
  // itself commits there is, like any other file.
  const outInRepo = path.relative(repoDir, outDir);
  const ownOutput =
    outInRepo !== '' && !outInRepo.startsWith('..') && !path.isAbsolute(outInRepo) ? { ignoreUntrackedUnder: outInRepo.split(path.sep).join('/') } : {};
  const listing = values.changed ? Promise.resolve(values.changed) : changedFilesFromGit(repoDir, values.base ?? null, values.head ?? null, ownOutput);
  const loading = loadPolicyFile(policyPath);
  loading.catch(() => undefined); // its error is reported below, once the listing has succeeded
  const changedFiles = await listing;
  const loaded = await loading;
  // Name the policy as the repository knows it, not by this machine's absolute path.
  const relative = path.relative(repoDir, policyPath);
  const policy = { ...loaded, path: relative.startsWith('..') ? policyPath : relative };
  const now = () => new Date();

  const approvals = values.approve
    ? approveFlagSource(os.userInfo().username || 'local-user', now)
    : values.approvals
      ? await approvalsFileSource(path.resolve(io.cwd, values.approvals), now)
      : noApprovals;

  let resume: RunState | undefined;
  if (values.resume) {
    const stateFile = path.join(outDir, EvidenceFile.runState);
    // Read as a regular file inside the output folder, never through a link planted there.
    const saved = await readConfinedFile(stateFile, { within: outDir, maxBytes: MAX_STEP_FILE_BYTES }).catch((error: unknown) => {
      if (isRefusedFile(error)) throw new QfError('BAD_INPUT', `--resume: ${errorMessage(error)}`);
      throw new QfError('BAD_INPUT', `--resume needs ${stateFile} from an earlier run that waited for approval; none found.`);
    });
    try {
      resume = JSON.parse(saved.toString('utf8')) as RunState; // checked against the policy and the change by the run
    } catch (error) {
      throw new QfError('BAD_INPUT', `--resume: ${stateFile} is not valid JSON (${errorMessage(error)}); start a new run.`, { cause: error });
    }
  }

  const runId = resume?.runId ?? randomUUID();
  let recorder: RunRecorder | undefined;
  if (values.db || values['database-url']) {
    const connection = storeConnectionFromFlags({ ...values, ...(values.db ? { db: path.resolve(io.cwd, values.db) } : {}) });
    recorder = await openRunRecorder({
      connection,
      repoDir,
      runId,
      policy: policy.policy,
      headSha: values.head ?? null,
      previousAudit: resume?.audit ?? [],
      clock: now,
      outDir,
    });
  }

  let outcome;
  try {
    outcome = await orchestrate({
      runId,
      ...(recorder ? { audit: recorder.audit, ledger: recorder.ledger, projectId: recorder.projectId, iteration: recorder.iteration } : {}),
      repoDir,
      outDir,
      policy,
      change: { base: values.base ?? null, head: values.head ?? null, changedFiles, labels: values.label ?? [] },
      approvals,
      env: io.env,
      clock: now,
      onProgress: values.json ? undefined : progressReporter(io),
      ...(resume ? { resume } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
      ...(shard ? { shard } : {}),
      ...(values['cache-dir'] ? { cacheDir: path.resolve(io.cwd, values['cache-dir']) } : {}),
    });
  } finally {
    await recorder?.finish(outcome?.evidence);
  }
  // A signature of an earlier run in this folder would not match this evidence.
  const envelope = path.join(outDir, EvidenceFile.signature);
  if (signKey) await signEvidence(outDir, signKey);
  else await rm(envelope, { force: true });

  if (values.json) {
    const { evidence } = outcome;
    io.stdout(
      `${JSON.stringify({ verdict: evidence.gate.verdict, exitCode: outcome.exitCode, planHash: evidence.plan.planHash, reasons: evidence.gate.reasons, rules: evidence.gate.rules, metrics: evidence.metrics, evidencePath: outcome.evidencePath, summaryPath: outcome.summaryPath, ...(signKey ? { signaturePath: envelope } : {}) }, null, 2)}\n`,
    );
  } else {
    io.stdout(formatRunResult(outcome.evidence, outcome));
    if (signKey) io.stdout(`Signed:   ${envelope}\n`);
  }
  return outcome.exitCode;
}

/** `--shard I/N [--timings FILE]`: which shard, and the history it is balanced by (none: the tools say what they balance by instead). */
async function shardFromFlags(text: string, timingsFile: string | undefined): Promise<ShardSpec> {
  const ref = parseShardRef(text);
  if (typeof ref === 'string') throw new QfError('USAGE', `--shard: ${ref}.`);
  return { ...ref, history: timingsFile ? await readTimingHistory(timingsFile) : null };
}

async function readSigningKey(file: string) {
  const pem = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new QfError('BAD_INPUT', `--sign-key: cannot read ${file} (${error.code ?? error.message}); expected a PEM private key (ed25519 or ECDSA P-256).`, {
      cause: error,
    });
  });
  return signingKeyFromPem(pem, `--sign-key ${file}`);
}
