import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PYTEST_EXTRA_ENV } from '../constants.js';
import { isQfError, QfError } from '../errors.js';
import type { StepResult, TestCounts } from '../evidence/schema.js';
import { RUN_PYTEST_CONTRACT, type RunPytestInput } from '../policy/tool-contracts.js';
import type { SandboxResult } from '../sandbox/types.js';
import { isRefusedFile } from '../util/open-confined-file.js';
import { parseJUnitReport } from './junit-report.js';
import { confineStepPaths } from './confine-step-paths.js';
import { parsePytestSummaryLine } from './pytest-summary-line.js';
import { parseVersionProbe, VERSION_PROBE_ARGS } from './pytest-version-probe.js';
import { selectShardTests } from './pytest-shard.js';
import type { ToolDefinition, ToolRun } from './tool-definition.js';

const OOM_KILLED = "pytest itself was killed by the kernel's OOM killer at the sandbox's memory limit (sandbox.container.memory_mb).";

/** pytest's documented exit codes. */
const PYTEST_EXIT = { ok: 0, testsFailed: 1, interrupted: 2, internalError: 3, usageError: 4, noTests: 5 } as const;

export function pytestMetrics(counts: TestCounts, durationSeconds: number): Record<string, number> {
  const ran = counts.passed + counts.failed + counts.errors + counts.xpassed;
  return {
    'pytest.total': counts.total,
    'pytest.passed': counts.passed,
    'pytest.failed': counts.failed,
    'pytest.errors': counts.errors,
    'pytest.skipped': counts.skipped,
    'pytest.xfailed': counts.xfailed,
    'pytest.xpassed': counts.xpassed,
    // Skips and expected failures are not runs; a suite that ran nothing has no pass rate to fail.
    'pytest.pass_rate': ran === 0 ? 1 : (counts.passed + counts.xpassed) / ran,
    'pytest.duration_seconds': Math.round(durationSeconds * 1000) / 1000,
    // Reports from before these were counted have none; they are not made up as zeros.
    ...(counts.subtestsPassed !== undefined ? { 'pytest.subtests_passed': counts.subtestsPassed } : {}),
    ...(counts.subtestsFailed !== undefined ? { 'pytest.subtests_failed': counts.subtestsFailed } : {}),
    ...(counts.deselected !== undefined ? { 'pytest.deselected': counts.deselected } : {}),
  };
}

/**
 * The interpreter cannot run pytest at all: not found, or pytest is not installed for it. That is
 * configuration, not a flaky step: retrying cannot help, so the run stops (TOOL_FAILED, exit 2).
 */
function missingPytest(result: SandboxResult, python: string): QfError | undefined {
  const config = 'This is configuration: the step is not retried and the run exits 2.';
  // execa's message repeats the whole command line first; what the OS said is its last line.
  if (result.spawnError)
    return new QfError(
      'TOOL_FAILED',
      `pytest could not be started: ${result.spawnError.trim().split('\n').pop()}. Check \`with.python\` or \`sandbox.python\` (${python}) or the PATH the step gets. ${config}`,
    );
  if (/No module named pytest/.test(`${result.stderr.text}\n${result.stdout.text}`))
    return new QfError(
      'TOOL_FAILED',
      `pytest is not installed for this Python interpreter (${python}: "No module named pytest"); install it (pip install pytest) or set \`with.python\` or \`sandbox.python\` in the policy. ${config}`,
    );
  return undefined;
}

function explainNoReport(result: SandboxResult): string {
  if (result.oomKilled) return OOM_KILLED;
  const output = `${result.stderr.text}\n${result.stdout.text}`;
  const tail = output.trim().split('\n').slice(-5).join('\n');
  return `pytest exited with code ${result.exitCode ?? result.signal} and wrote no JUnit report. Its last output:\n${tail}`;
}

/**
 * Where pytest's exit status and its report tell different stories, or undefined when they agree.
 * The report is written by the tested code's process and can be rewritten after pytest wrote it
 * (an `atexit` hook, say), so a report that claims success for a run pytest called failed, or the
 * other way round, is not believed: the step fails with the reason.
 */
export function exitReportDisagreement(exitCode: number | null, counts: TestCounts): string | undefined {
  const failing = counts.failed + counts.errors;
  const says = `its JUnit report lists ${counts.total} tests, ${counts.failed} failed and ${counts.errors} errors`;
  const untrusted = 'the report does not match the run, so it is not trusted';
  if (exitCode === PYTEST_EXIT.ok && failing > 0) return `pytest exited with code 0 (all tests passed) but ${says}: ${untrusted}.`;
  if (exitCode === PYTEST_EXIT.testsFailed && failing === 0) return `pytest exited with code 1 (tests failed) but ${says}: ${untrusted}.`;
  if (exitCode === PYTEST_EXIT.noTests && counts.total > 0) return `pytest exited with code 5 (no tests collected) but ${says}: ${untrusted}.`;
  return undefined;
}

/** pytest's session header: `platform linux -- Python 3.11.7, pytest-9.0.3, pluggy-1.6.0`. */
const SESSION_HEADER = /^platform \S+ -- Python (\S+?),? pytest-([^\s,]+)/m;

export function versionsFromHeader(stdoutHead: string): { python: string | null; pytest: string | null } | undefined {
  const match = SESSION_HEADER.exec(stdoutHead);
  return match ? { python: match[1]!, pytest: match[2]! } : undefined;
}

/** How much of stdout's beginning is kept to read the session header (the capped output keeps the tail). */
const HEADER_BYTES = 4_096;

/** pytest's command line: the policy's paths and arguments plus what qf needs from the run. */
export function pytestArguments(input: { paths: readonly string[]; args: readonly string[] }, reportPath: string): string[] {
  return [
    '-m',
    'pytest',
    // No progress percentages: nobody watches this terminal, and computing them costs pytest about
    // 30 ms per 1,000 tests. The session header (versions) and the closing line stay.
    '-o',
    'console_output_style=classic',
    ...input.paths,
    ...input.args,
    `--junitxml=${reportPath}`,
    '-o',
    'junit_family=xunit1', // xunit2 (pytest's default) drops file and line, which annotations need
    '-p',
    'no:cacheprovider', // never write .pytest_cache into the repository under test
    '-rN', // keep the terminal report short; the JUnit report has the details
  ];
}

async function runPytest(input: RunPytestInput, context: import('./tool-definition.js').ToolContext): Promise<ToolRun> {
  const outside = await confineStepPaths(context.repoDir, input.cwd, input.paths);
  if (outside !== undefined) return { status: 'refused', reason: outside, metrics: {}, artifacts: [] };
  await mkdir(context.stepDir, { recursive: true });
  const reportPath = path.join(context.stepDir, 'junit.xml');
  // One shard of a matrix runs its part of the collected tests, named by node id in place of the paths.
  const shard = context.shard ? await selectShardTests(input, context, context.shard) : undefined;
  if (shard && !shard.ok) return shard.run;
  const sharded = shard ? { selection: shard.selection, listFile: shard.listFile } : undefined;
  if (shard && shard.selected.length === 0) {
    const counts = { total: 0, passed: 0, failed: 0, errors: 0, skipped: 0, xfailed: 0, xpassed: 0 };
    return {
      status: 'passed',
      reason: `Shard ${shard.selection.shard.index}/${shard.selection.shard.total} has none of the ${shard.selection.collected} collected tests.`,
      metrics: pytestMetrics(counts, 0),
      tests: { counts, notable: [], truncated: false },
      artifacts: [shard.listFile],
      selection: { ...shard.selection, list: shard.listFile },
    };
  }
  const args = pytestArguments(shard ? { paths: shard.selected, args: input.args } : input, reportPath);
  let stdoutHead = '';
  const result = await context.sandbox.run({
    command: input.python,
    args,
    repoDir: context.repoDir,
    ...(input.cwd !== undefined ? { cwd: input.cwd } : {}),
    outputDir: context.stepDir,
    env: { ...context.env, ...PYTEST_EXTRA_ENV },
    timeoutMs: context.timeoutMs,
    maxOutputBytes: context.maxOutputBytes,
    onOutput: (stream, chunk) => {
      if (stream === 'stdout' && stdoutHead.length < HEADER_BYTES) stdoutHead += chunk;
      context.onOutput?.(stream, chunk);
    },
    ...(context.signal ? { signal: context.signal } : {}),
  });

  const versions = versionsFromHeader(stdoutHead) ?? versionsFromHeader(result.stdout.text);
  const selected = sharded ? [sharded.listFile] : [];
  const base = {
    sandbox: result,
    artifacts: selected,
    ...(versions ? { versions } : {}),
    ...(sharded ? { selection: { ...sharded.selection, list: sharded.listFile } } : {}),
  };
  if (result.timedOut) {
    return {
      ...base,
      status: 'timed_out',
      reason: `pytest ran past the ${Math.round(context.timeoutMs / 1000)} s deadline and was killed.`,
      metrics: {},
    };
  }

  let summary;
  try {
    summary = await parseJUnitReport(reportPath, { within: context.stepDir });
  } catch (error) {
    if (!isQfError(error, 'TOOL_FAILED')) throw error;
    const missing = /does not exist/.test(error.message);
    const unusable = missing ? missingPytest(result, input.python) : undefined;
    if (unusable) throw unusable;
    // A report swapped for a link or a pipe is not an artifact: it is never read, so never listed.
    return {
      ...base,
      status: 'error',
      reason: missing ? explainNoReport(result) : error.message,
      metrics: {},
      artifacts: missing || isRefusedFile(error) ? selected : [...selected, reportPath],
    };
  }

  // JUnit shows a non-strict XPASS as a pass; pytest's closing line has the real count.
  const closing = parsePytestSummaryLine(result.stdout.text);
  const xpassed = Math.min(closing?.xpassed ?? 0, summary.counts.passed);
  const counts = {
    ...summary.counts,
    passed: summary.counts.passed - xpassed,
    xpassed: summary.counts.xpassed + xpassed,
    deselected: closing?.deselected ?? 0,
  };
  // Wall-clock time of the pytest process: per-test times leave out collection and fixtures.
  const metrics = pytestMetrics(counts, result.durationMs / 1000);
  const tests = { counts, notable: summary.notable, truncated: summary.truncated };
  const withReport = { ...base, metrics, tests, artifacts: [...selected, reportPath] };
  const disagreement = exitReportDisagreement(result.exitCode, counts);
  if (disagreement) return { ...withReport, status: 'failed', reason: disagreement };

  switch (result.exitCode) {
    case PYTEST_EXIT.ok:
      return { ...withReport, status: 'passed' };
    case PYTEST_EXIT.noTests:
      return { ...withReport, status: 'passed', reason: 'pytest collected no tests.' };
    case PYTEST_EXIT.testsFailed:
      return { ...withReport, status: 'failed', reason: `${counts.failed} failed, ${counts.errors} errors out of ${counts.total} tests.` };
    case PYTEST_EXIT.interrupted:
      return {
        ...withReport,
        status: 'error',
        reason: counts.errors > 0 ? `pytest stopped: ${counts.errors} errors during collection.` : 'pytest was interrupted.',
      };
    default:
      if (result.oomKilled) return { ...withReport, status: 'error', reason: OOM_KILLED };
      return {
        ...withReport,
        status: 'error',
        reason: `pytest exited with code ${result.exitCode ?? result.signal} (usage or internal error): ${result.stderr.text.trim().split('\n').slice(-3).join(' ')}`,
      };
  }
}

/** The run's pytest metrics: counts summed over every pytest step, the pass rate recomputed from the sums. */
function aggregatePytestMetrics(steps: readonly StepResult[]): Record<string, number> {
  const counts: TestCounts = { total: 0, passed: 0, failed: 0, errors: 0, skipped: 0, xfailed: 0, xpassed: 0 };
  let seconds = 0;
  let reported = 0;
  for (const step of steps) {
    if (!step.tests) continue;
    reported++;
    // subtests and deselected are optional (evidence from before they were counted has none): summed where present.
    for (const key of Object.keys(step.tests.counts) as Array<keyof TestCounts>) counts[key] = (counts[key] ?? 0) + (step.tests.counts[key] ?? 0);
    seconds += step.metrics['pytest.duration_seconds'] ?? 0;
  }
  return reported > 0 ? pytestMetrics(counts, seconds) : {};
}

export const runPytestTool: ToolDefinition<RunPytestInput> = {
  ...RUN_PYTEST_CONTRACT,
  run: runPytest,
  aggregateMetrics: aggregatePytestMetrics,
  versionProbe: { command: (input) => ({ command: input.python, args: VERSION_PROBE_ARGS }), parse: parseVersionProbe },
};
