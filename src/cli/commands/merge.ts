import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode } from '../../constants.js';
import { QfError } from '../../errors.js';
import { verificationKeyFromPem } from '../../evidence/dsse.js';
import type { Evidence } from '../../evidence/schema.js';
import { mergeShards } from '../../merge/merge-shards.js';
import { loadPolicyFile } from '../../policy/load-policy.js';
import { MAX_SHARDS } from '../../tools/partition-tests.js';
import type { CliIo } from '../cli-io.js';
import { formatRunResult } from '../format-run-result.js';

/**
 * `qf merge DIR…`: the shards' evidence folders of one run, checked and merged into one verdict
 * under the policy (see mergeShards). Locally the shards' own approval records are taken: the
 * folders are the user's. Exit codes as `qf run`'s; 2 when a bundle is rejected.
 */
export async function mergeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      policy: { type: 'string' },
      total: { type: 'string' },
      head: { type: 'string' },
      out: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new QfError('USAGE', "expected the shards' evidence folders (DIR…)");
  if (!values.policy) throw new QfError('USAGE', '--policy FILE is required: the policy the shards were judged with decides the merged verdict.');
  const dirs = positionals.map((dir) => path.resolve(io.cwd, dir));
  const total = values.total === undefined ? await claimedTotal(dirs) : Number(values.total);
  if (!Number.isInteger(total) || total < 1 || total > MAX_SHARDS)
    throw new QfError('USAGE', `--total: expected a whole number from 1 to ${MAX_SHARDS}, got "${values.total}"`);
  const publicKey = values.key ? verificationKeyFromPem(await readText(path.resolve(io.cwd, values.key), '--key'), `--key ${values.key}`) : undefined;
  const policyPath = path.resolve(io.cwd, values.policy);
  const policy = await loadPolicyFile(policyPath);
  const outDir = path.resolve(io.cwd, values.out ?? 'qf-merged');

  const outcome = await mergeShards({
    bundles: dirs.map((dir) => ({ dir })),
    total,
    policy: { ...policy, path: path.relative(io.cwd, policyPath) },
    headSha: values.head ?? null,
    approvals: (evidence) => ({ lookup: async () => ({ approvals: evidence.approval.approvals, rejected: evidence.approval.rejected, notes: [] }) }),
    ...(publicKey ? { publicKey } : {}),
    outDir,
  });
  if (!outcome.ok) {
    if (values.json) io.stdout(`${JSON.stringify({ verdict: 'blocked', exitCode: ExitCode.badInput, problems: outcome.problems }, null, 2)}\n`);
    else io.stderr(`qf merge: evidence rejected, nothing merged:\n${outcome.problems.map((problem) => `  ✗ ${problem}`).join('\n')}\n`);
    return ExitCode.badInput;
  }
  const { evidence } = outcome;
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ verdict: evidence.gate.verdict, exitCode: outcome.exitCode, reasons: evidence.gate.reasons, metrics: evidence.metrics, conflicts: evidence.governance.conflicts.length, shards: evidence.merge!.shards.map(({ index, verdict, problems }) => ({ index, verdict, problems })), evidencePath: outcome.evidencePath }, null, 2)}\n`,
    );
  } else {
    const found = evidence.merge!.shards.filter((shard) => shard.bundle !== null).length;
    io.stdout(`Merged ${found} of ${total} shards (${evidence.governance.conflicts.length} conflicts).\n${formatRunResult(evidence, outcome)}`);
  }
  return outcome.exitCode;
}

/** The shard count the bundles claim (checked again by the merge), for a command line without --total. */
async function claimedTotal(dirs: readonly string[]): Promise<number> {
  for (const dir of dirs) {
    const text = await readFile(path.join(dir, 'evidence.json'), 'utf8').catch(() => undefined);
    const total = text === undefined ? undefined : (JSON.parse(text) as Partial<Evidence>).shard?.total;
    if (typeof total === 'number') return total;
  }
  throw new QfError('USAGE', 'none of the folders holds the evidence of a shard; give --total N, or run the shards with --shard I/N');
}

async function readText(file: string, flag: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new QfError('BAD_INPUT', `${flag}: cannot read ${file} (${error.code ?? error.message}).`, { cause: error });
  });
}
