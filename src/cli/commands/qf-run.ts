import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICY_PATH, EvidenceFile } from '../../constants.js';
import { errorMessage, isQfError, QfError } from '../../errors.js';
import { isRefusedFile, MAX_STEP_FILE_BYTES, readConfinedFile } from '../../util/open-confined-file.js';
import { signingKeyFromPem } from '../../evidence/dsse.js';
import { signEvidence } from '../../evidence/sign-evidence.js';
import { orchestrate } from '../../orchestrator/orchestrate.js';
import type { RunState } from '../../orchestrator/run-state.js';
import { changedFilesFromGit } from '../../planner/changed-files.js';
import { loadPolicyFile } from '../../policy/load-policy.js';
import { parseShardRef } from '../../tools/partition-tests.js';
import type { ShardSpec } from '../../tools/tool-definition.js';
import { readTimingHistory } from '../../tools/timing-history.js';
import { approvalsFileSource, approveFlagSource, noApprovals } from '../cli-approval-source.js';
import type { CliIo } from '../cli-io.js';
import { formatRunResult } from '../format-run-result.js';
import { checkoutHead, type HeadCheckout, resolveCommit } from '../head-checkout.js';
import { progressReporter } from '../progress-reporter.js';
import { openRunRecorder, type RunRecorder } from '../run-recorder.js';
import { STORE_FLAGS, storeConnectionFromFlags } from '../store-flags.js';
import { parseFlags } from '../parse-flags.js';

/**
 * A run that stopped (Ctrl-C, a missing tool) has still written its evidence, marked incomplete:
 * the error says where, so the person at the terminal knows what was kept.
 */
async function pointAtEvidence(error: unknown, outDir: string, runId: string): Promise<unknown> {
  if (!isQfError(error)) return error;
  const evidencePath = path.join(outDir, EvidenceFile.evidence);
  const written = await readConfinedFile(evidencePath, { within: outDir, maxBytes: MAX_STEP_FILE_BYTES }).then(
    (bytes) => JSON.parse(bytes.toString('utf8')) as { runId?: string; complete?: boolean },
    () => undefined,
  );
  if (written?.runId !== runId || written.complete !== false) return error;
  return new QfError(error.code, `${error.message}\nEvidence (marked incomplete): ${evidencePath}\nSummary: ${path.join(outDir, EvidenceFile.summary)}`, {
    cause: error,
  });
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
  if (values.head && !values.base)
    throw new QfError('USAGE', '--head needs --base: the change is what lies between the two (git diff BASE...HEAD). Without --head the work tree is tested.');
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
  // Refs are resolved once, so the change, the checkout and the evidence all name the same commits.
  const base = values.base ? await resolveCommit(repoDir, values.base, '--base') : null;
  const head = values.head ? await resolveCommit(repoDir, values.head, '--head') : null;
  const listing = values.changed ? Promise.resolve(values.changed) : changedFilesFromGit(repoDir, base, head, ownOutput);
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
      headSha: head,
      previousAudit: resume?.audit ?? [],
      clock: now,
      outDir,
    });
  }

  let outcome;
  // --head: the steps run on a clean checkout of that commit, not on the work tree.
  let checkout: HeadCheckout | undefined;
  const progress = values.json ? undefined : progressReporter(io);
  try {
    if (head) checkout = await checkoutHead(repoDir, head);
    outcome = await orchestrate({
      runId,
      // The project is the repository qf was pointed at, not the temporary checkout's folder.
      ...(recorder
        ? { audit: recorder.audit, ledger: recorder.ledger, projectId: recorder.projectId, iteration: recorder.iteration }
        : { projectId: path.basename(repoDir) }),
      repoDir: checkout?.dir ?? repoDir,
      outDir,
      policy,
      change: {
        base,
        head,
        changedFiles,
        labels: values.label ?? [],
        ...(head && values.base && values.head ? { checkout: { base: values.base, head: values.head } } : {}),
      },
      approvals,
      env: io.env,
      clock: now,
      ...(progress ? { onProgress: progress.onEvent } : {}),
      ...(resume ? { resume } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
      ...(shard ? { shard } : {}),
      ...(values['cache-dir'] ? { cacheDir: path.resolve(io.cwd, values['cache-dir']) } : {}),
    });
  } catch (error) {
    throw await pointAtEvidence(error, outDir, runId);
  } finally {
    progress?.stop();
    await checkout?.remove();
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
