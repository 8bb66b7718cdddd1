import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { PYTEST_EXTRA_ENV } from '../constants.js';
import type { StepSelection } from '../evidence/schema.js';
import { writeFileAtomic } from '../evidence/output-folder.js';
import type { RunPytestInput } from '../policy/tool-contracts.js';
import { sha256Hex } from '../util/canonical-json.js';
import { partitionTests, shardWeights, testFile } from './partition-tests.js';
import type { ShardSpec, ToolContext, ToolRun } from './tool-definition.js';

/** The file, inside the step's folder, listing the node ids this shard ran. */
export const SELECTION_FILE = 'selection.txt';

/** sha256 of a set of test ids: sorted, one a line, each line ended. The merge recomputes it from the list files. */
export function testListDigest(ids: Iterable<string>): string {
  return sha256Hex(
    [...ids]
      .sort()
      .map((id) => `${id}\n`)
      .join(''),
  );
}

/**
 * Node ids from `pytest --collect-only -q`: one a line up to the first empty line, after which pytest
 * prints its summary (warnings, "N tests collected"). Duplicates (overlapping paths) count once.
 */
export function parseCollectedIds(stdout: string): string[] {
  const ids: string[] = [];
  for (const line of stdout.split('\n')) {
    const trimmed = line.trimEnd();
    if (trimmed === '') break;
    if (/^(=|-|no tests ran|\d+ tests? collected)/.test(trimmed)) break;
    ids.push(trimmed);
  }
  return [...new Set(ids)];
}

export type ShardSelectionResult = { ok: true; selected: string[]; selection: StepSelection; listFile: string } | { ok: false; run: ToolRun };

/**
 * Which of the tests pytest collects (in the sandbox, with the step's own paths and arguments) this
 * shard runs: a longest-first split by the timing history (see shardWeights). Writes the list to
 * the step's folder. A collection that fails, or whose listing was cut at the output cap, cannot be
 * split faithfully: the step errs with the reason instead of running a guess.
 */
export async function selectShardTests(input: RunPytestInput, context: ToolContext, shard: ShardSpec): Promise<ShardSelectionResult> {
  const result = await context.sandbox.run({
    command: input.python,
    args: ['-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider', ...input.paths, ...input.args],
    repoDir: context.repoDir,
    ...(input.cwd !== undefined ? { cwd: input.cwd } : {}),
    outputDir: context.stepDir,
    env: { ...context.env, ...PYTEST_EXTRA_ENV },
    timeoutMs: context.timeoutMs,
    maxOutputBytes: context.maxOutputBytes,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  const failed = (reason: string): ShardSelectionResult => ({
    ok: false,
    run: { status: result.timedOut ? 'timed_out' : 'error', reason, metrics: {}, artifacts: [], sandbox: result },
  });
  if (result.timedOut) return failed(`pytest --collect-only ran past the ${Math.round(context.timeoutMs / 1000)} s deadline; the shard cannot be chosen.`);
  if (result.spawnError) return failed(`pytest could not be started to collect the tests: ${result.spawnError}`);
  if (result.stdout.droppedBytes > 0)
    return failed(
      `pytest --collect-only listed more than sandbox.max_output_bytes (${context.maxOutputBytes}) allows; raise it so every collected test can be assigned to a shard.`,
    );
  // 5: nothing collected, which splits into empty shards like any other list.
  if (result.exitCode !== 0 && result.exitCode !== 5) {
    const tail = `${result.stdout.text}\n${result.stderr.text}`.trim().split('\n').slice(-8).join('\n');
    return failed(`pytest --collect-only exited with code ${result.exitCode ?? result.signal}; the shard cannot be chosen. Its last output:\n${tail}`);
  }
  const collected = result.exitCode === 5 ? [] : parseCollectedIds(result.stdout.text);
  const workingDir = path.join(context.repoDir, input.cwd ?? '.');
  const sizes = new Map<string, number>();
  for (const file of new Set(collected.map(testFile))) sizes.set(file, await fileSize(workingDir, file));
  const weights = shardWeights(collected, shard.history, (file) => sizes.get(file) ?? 1);
  const selected = partitionTests(collected, weights.weightOf, shard.total)[shard.index - 1]!;
  const listFile = path.join(context.stepDir, SELECTION_FILE);
  await writeFileAtomic(listFile, selected.map((id) => `${id}\n`).join(''));
  return {
    ok: true,
    selected,
    listFile,
    selection: {
      shard: { index: shard.index, total: shard.total },
      collected: collected.length,
      collectedSha256: testListDigest(collected),
      selected: selected.length,
      selectedSha256: testListDigest(selected),
      list: '', // filled in by the orchestrator's path rules: the tool knows only absolute paths
      balancedBy: weights.balancedBy,
      withHistory: weights.withHistory,
      note: weights.note,
    },
  };
}

/** A test file's size for the balance, never following a link out of the (hostile) repository: 1 for anything but a regular file. */
async function fileSize(workingDir: string, file: string): Promise<number> {
  const absolute = path.resolve(workingDir, file);
  if (path.relative(workingDir, absolute).startsWith('..')) return 1;
  const info = await lstat(absolute).catch(() => undefined);
  return info?.isFile() ? Math.max(1, info.size) : 1;
}
