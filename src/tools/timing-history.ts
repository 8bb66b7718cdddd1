import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, isQfError, QfError } from '../errors.js';
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
 * seconds (or `{ "tests": { … } }`), or an evidence folder (every JUnit report under its reports/).
 * Anything else is bad input with the reason.
 */
export async function readTimingHistory(target: string): Promise<TimingHistory> {
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new QfError('BAD_INPUT', `--timings: ${target} does not exist; expected a JUnit report, a JSON file of durations or an evidence folder.`);
  const durations = new Map<string, number>();
  if (info.isDirectory()) {
    const reports = (await readdir(target, { recursive: true })).filter((name) => name.endsWith('.xml')).sort();
    if (reports.length === 0)
      throw new QfError('BAD_INPUT', `--timings: ${target} holds no JUnit report (*.xml); expected an evidence folder of an earlier run.`);
    for (const report of reports) await addJUnitDurations(path.join(target, report), durations);
    return { source: `${reports.length} JUnit report(s) in ${target}`, durations };
  }
  if (info.size > MAX_TIMINGS_BYTES) throw new QfError('BAD_INPUT', `--timings: ${target} is ${info.size} bytes, more than the ${MAX_TIMINGS_BYTES} accepted.`);
  const text = await readFile(target, 'utf8');
  if (text.trimStart().startsWith('<')) {
    await addJUnitDurations(target, durations);
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
    throw new QfError('BAD_INPUT', `--timings: ${where} is neither a JUnit report nor JSON (${errorMessage(error)}).`, { cause: error });
  }
  const object = isRecord(parsed) && isRecord(parsed.tests) ? parsed.tests : parsed;
  if (!isRecord(object)) throw new QfError('BAD_INPUT', `--timings: ${where} must hold a JSON object of test id → seconds.`);
  const durations = new Map<string, number>();
  for (const [id, seconds] of Object.entries(object)) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)
      throw new QfError('BAD_INPUT', `--timings: ${where}: the duration of "${id}" is ${JSON.stringify(seconds)}; expected a number of seconds ≥ 0.`);
    durations.set(id, seconds);
  }
  return durations;
}

async function addJUnitDurations(file: string, durations: Map<string, number>): Promise<void> {
  try {
    await parseJUnitReport(file, { maxNotable: 0, onTestCase: (test) => durations.set(test.id, (durations.get(test.id) ?? 0) + test.durationSeconds) });
  } catch (error) {
    if (!isQfError(error)) throw error;
    throw new QfError('BAD_INPUT', `--timings: ${error.message}`, { cause: error });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
