import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EarlyReportParse } from '../../src/tools/early-report-parse.js';
import { parseJUnitReport } from '../../src/tools/junit-report.js';
import { PROJECTS_DIR, tempDir } from '../support/temp-git-repo.js';

/** Real pytest output and report (test/fixtures/projects/junit-mix, some tests fail on purpose). */
let work: { dir: string; cleanup: () => Promise<void> };
let report: string;

async function runPytest(...args: string[]): Promise<string> {
  const run = await execa('python3', ['-m', 'pytest', '-p', 'no:cacheprovider', `--junitxml=${report}`, '-o', 'junit_family=xunit1', ...args], {
    cwd: path.join(PROJECTS_DIR, 'junit-mix'),
    env: { PYTHONDONTWRITEBYTECODE: '1' },
    reject: false,
    stdin: 'ignore',
  });
  expect(run.exitCode).toBe(1);
  return run.stdout;
}

/** Feeds stdout in slices of `size` characters, as the pipes deliver it; returns the slice the parse started on. */
function feed(early: EarlyReportParse, stdout: string, size: number): number | undefined {
  let startedAt: number | undefined;
  for (let at = 0; at < stdout.length; at += size) {
    if (early.onStdout(stdout.slice(at, at + size))) startedAt ??= at;
  }
  return startedAt;
}

beforeEach(async () => {
  work = await tempDir('qf-early-parse-');
  report = path.join(work.dir, 'reports', 'junit.xml');
});
afterEach(async () => {
  await work.cleanup();
});

describe('EarlyReportParse', () => {
  it('starts parsing when pytest says the report is written, even with the line split between chunks', async () => {
    const stdout = await runPytest();
    const announcement = stdout.indexOf('generated xml file: ');
    expect(announcement).toBeGreaterThan(0);
    let parses = 0;
    const early = new EarlyReportParse(report, async (file) => {
      parses += 1;
      return parseJUnitReport(file);
    });
    // 7-character slices: the announcement is always cut somewhere.
    const startedAt = feed(early, stdout, 7);
    expect(startedAt).toBeGreaterThan(announcement);
    expect(startedAt).toBeLessThan(announcement + 'generated xml file: '.length + report.length);

    const result = await early.result();
    expect(result).toEqual({ summary: await parseJUnitReport(report) });
    expect(parses).toBe(1);
  });

  it('gives nothing when the report changed after the parse started, so the caller parses it again', async () => {
    const stdout = await runPytest();
    // The parse starts right after the file's version is taken: change the file in between.
    let versionTaken!: () => void;
    const taken = new Promise<void>((resolve) => (versionTaken = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const early = new EarlyReportParse(report, async (file) => {
      versionTaken();
      await released;
      return parseJUnitReport(file);
    });
    feed(early, stdout, 4096);
    await taken;
    await appendFile(report, '\n'); // what a plugin rewriting the report after pytest's line would do
    release();
    expect(await early.result()).toBeUndefined();
  });

  it('passes on the parse error of a broken report that stayed as it was', async () => {
    const stdout = await runPytest();
    await writeFile(report, '<testsuites><testsuite name="pytest"><testcase name="cut'); // before qf reads it
    const early = new EarlyReportParse(report, parseJUnitReport);
    feed(early, stdout, 4096);
    const result = await early.result();
    expect(result && 'error' in result && (result.error as Error).message).toMatch(/truncated or not valid XML/);
  });

  it('never starts with -q, where pytest does not print the line, nor for another report path', async () => {
    const quiet = new EarlyReportParse(report, parseJUnitReport);
    expect(feed(quiet, await runPytest('-q'), 4096)).toBeUndefined();
    expect(await quiet.result()).toBeUndefined();

    const other = new EarlyReportParse(path.join(work.dir, 'other.xml'), parseJUnitReport);
    expect(feed(other, await runPytest(), 4096)).toBeUndefined();
  });
});
