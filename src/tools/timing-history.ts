import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isQfError, QfError } from '../errors.js';
import { readConfinedFile } from '../util/open-confined-file.js';
import { parseJUnitReport } from './junit-report.js';

/** Each test's duration in seconds from earlier runs, and where they came from (for the note that says what a split rests on). */
export interface TimingHistory {
  source: string;
  durations: Map<string, number>;
}

/** A timings file larger than this is not a timing history. */
const MAX_TIMINGS_BYTES = 64 * 1024 * 1024;

/**
 * Reads a timing history from `target`: a pytest JUnit XML report, a JSON object of node id →
 * seconds (or `{ "tests": { … } }`), or an evidence folder (every JUnit report under it). In the
 * Action the target is in the pull request's checkout, so nothing is read through a link or from
 * outside `within` (default: the target's own folder), and no message quotes what a file holds.
 */
export async function readTimingHistory(target: string, options: { within?: string } = {}): Promise<TimingHistory> {
  const info = await lstat(target).catch(() => undefined);
  if (!info) throw new QfError('BAD_INPUT', `--timings: ${target} does not exist; expected a JUnit report, a JSON file of durations or an evidence folder.`);
  if (info.isSymbolicLink()) throw new QfError('BAD_INPUT', `--timings: ${target} is a symbolic link; it is not followed.`);
  const durations = new Map<string, number>();
  if (info.isDirectory()) {
    const within = options.within ?? target;
    const entries = await readdir(target, { recursive: true, withFileTypes: true });
    // Links, pipes and devices are not files: never opened.
    const reports = entries
      .filter((entry) => entry.isFile() && entry.name.endsWith('.xml'))
      .map((entry) => path.join(entry.parentPath, entry.name))
      .sort();
    if (reports.length === 0)
      throw new QfError('BAD_INPUT', `--timings: ${target} holds no JUnit report (*.xml); expected an evidence folder of an earlier run.`);
    for (const report of reports) await addJUnitDurations(report, within, durations);
    return { source: `${reports.length} JUnit report(s) in ${target}`, durations };
  }
  const within = options.within ?? path.dirname(target);
  const text = (await confined(() => readConfinedFile(target, { within, maxBytes: MAX_TIMINGS_BYTES }))).toString('utf8');
  if (text.trimStart().startsWith('<')) {
    await addJUnitDurations(target, within, durations);
    return { source: target, durations };
  }
  return { source: target, durations: parseDurationsJson(text, target) };
}

/** `{ "tests/test_x.py::test_a": 1.5, … }` or the same under `tests`; every value a non-negative number of seconds. */
export function parseDurationsJson(text: string, where: string): Map<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // JSON.parse's message quotes the text: say only that it is not JSON.
    throw new QfError('BAD_INPUT', `--timings: ${where} is neither a JUnit report nor valid JSON.`, { cause: error });
  }
  return durationsFromJson(parsed, where);
}

/** The durations of an already parsed JSON value (a file's, or an API answer's), every value checked. */
export function durationsFromJson(parsed: unknown, where: string): Map<string, number> {
  const object = isRecord(parsed) && isRecord(parsed.tests) ? parsed.tests : parsed;
  if (!isRecord(object)) throw new QfError('BAD_INPUT', `--timings: ${where} must hold a JSON object of test id → seconds.`);
  const durations = new Map<string, number>();
  for (const [id, seconds] of Object.entries(object)) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)
      throw new QfError('BAD_INPUT', `--timings: ${where}: the duration of test number ${durations.size + 1} is not a number of seconds ≥ 0.`);
    durations.set(id, seconds);
  }
  return durations;
}

async function addJUnitDurations(file: string, within: string, durations: Map<string, number>): Promise<void> {
  await confined(() =>
    parseJUnitReport(file, {
      within,
      maxNotable: 0,
      maxBytes: MAX_TIMINGS_BYTES,
      onTestCase: (test) => durations.set(test.id, (durations.get(test.id) ?? 0) + test.durationSeconds),
    }),
  );
}

/** qf's own errors (a refused link, a truncated report) as bad timings, under the flag's name. */
async function confined<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!isQfError(error)) throw error;
    throw new QfError('BAD_INPUT', `--timings: ${error.message}`, { cause: error });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
