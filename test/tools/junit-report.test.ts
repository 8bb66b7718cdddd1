import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQfError } from '../../src/errors.js';
import type { TestCase } from '../../src/evidence/schema.js';
import { parseJUnitReport } from '../../src/tools/junit-report.js';
import { PROJECTS_DIR, tempDir } from '../support/temp-git-repo.js';

/**
 * The reports here are produced by real pytest runs of test/fixtures/projects/junit-mix, in both
 * JUnit families pytest writes.
 */
let work: { dir: string; cleanup: () => Promise<void> };
let xunit1: string;
let xunit2: string;

async function pytestReport(family: 'xunit1' | 'xunit2'): Promise<string> {
  const report = path.join(work.dir, `${family}.xml`);
  const run = await execa('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', `--junitxml=${report}`, '-o', `junit_family=${family}`], {
    cwd: path.join(PROJECTS_DIR, 'junit-mix'),
    env: { PYTHONDONTWRITEBYTECODE: '1' },
    reject: false,
    stdin: 'ignore',
  });
  expect(run.exitCode).toBe(1); // some tests fail on purpose
  return report;
}

beforeAll(async () => {
  work = await tempDir('qf-junit-');
  [xunit1, xunit2] = await Promise.all([pytestReport('xunit1'), pytestReport('xunit2')]);
});
afterAll(async () => {
  await work.cleanup();
});

describe('parseJUnitReport on real pytest reports', () => {
  it('counts every outcome from the <testcase> elements (xunit1)', async () => {
    const summary = await parseJUnitReport(xunit1);
    // pytest: "4 failed, 4 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error". JUnit shows the
    // non-strict XPASS as a pass (run_pytest corrects that from pytest's closing line) and the
    // strict one as a failure.
    expect(summary.counts).toEqual({ total: 12, passed: 5, failed: 4, errors: 1, skipped: 1, xfailed: 1, xpassed: 0, subtestsPassed: 0, subtestsFailed: 0 });
    expect(summary.truncated).toBe(false);
    expect(summary.durationSeconds).toBeGreaterThanOrEqual(0);
  });

  it('keeps every non-passing test with its node id, outcome, file:line and message', async () => {
    const { notable } = await parseJUnitReport(xunit1);
    expect(notable.map(({ id, outcome, file, line, message }) => ({ id, outcome, where: `${file}:${line}`, message: message!.split('\n')[0] }))).toEqual([
      {
        id: 'tests/test_outcomes.py::test_fails',
        outcome: 'failed',
        where: 'tests/test_outcomes.py:10',
        message: "AssertionError: assert {'status': 'open'} == {'status': 'paid'}",
      },
      {
        id: 'tests/test_outcomes.py::test_errors_in_setup',
        outcome: 'error',
        where: 'tests/test_outcomes.py:15',
        message: 'failed on setup with "RuntimeError: fixture could not start"',
      },
      { id: 'tests/test_outcomes.py::test_strict_xpass', outcome: 'xpassed', where: 'tests/test_outcomes.py:32', message: '[XPASS(strict)] was a bug' },
      { id: 'tests/test_outcomes.py::test_parametrized[3]', outcome: 'failed', where: 'tests/test_outcomes.py:44', message: 'assert 3 < 3' },
      { id: 'tests/test_outcomes.py::TestInvoice::test_method_fails', outcome: 'failed', where: 'tests/test_outcomes.py:52', message: "KeyError: 'customer'" },
    ]);
    expect(notable[0]!.details).toMatch(/^def test_fails\(\):\n[\s\S]*\ntests\/test_outcomes\.py:10: AssertionError$/);
  });

  it('streams every test case, in document order, to onTestCase', async () => {
    const seen: TestCase[] = [];
    await parseJUnitReport(xunit1, { onTestCase: (test) => seen.push(test) });
    expect(seen.map((test) => `${test.outcome} ${test.id}`)).toEqual([
      'passed tests/test_outcomes.py::test_passes',
      'failed tests/test_outcomes.py::test_fails',
      'error tests/test_outcomes.py::test_errors_in_setup',
      'skipped tests/test_outcomes.py::test_skipped',
      'xfailed tests/test_outcomes.py::test_expected_failure',
      'xpassed tests/test_outcomes.py::test_strict_xpass',
      'passed tests/test_outcomes.py::test_loose_xpass',
      'passed tests/test_outcomes.py::test_parametrized[1]',
      'passed tests/test_outcomes.py::test_parametrized[2]',
      'failed tests/test_outcomes.py::test_parametrized[3]',
      'passed tests/test_outcomes.py::TestInvoice::test_method_passes',
      'failed tests/test_outcomes.py::TestInvoice::test_method_fails',
    ]);
    expect(seen.find((test) => test.outcome === 'skipped')).toMatchObject({ file: 'tests/test_outcomes.py', line: 22, message: 'not on this platform' });
  });

  it('still counts an xunit2 report (no file/line attributes), locating failures from the traceback', async () => {
    const summary = await parseJUnitReport(xunit2);
    expect(summary.counts).toEqual({ total: 12, passed: 5, failed: 4, errors: 1, skipped: 1, xfailed: 1, xpassed: 0, subtestsPassed: 0, subtestsFailed: 0 });
    expect(summary.notable[0]).toMatchObject({ id: 'tests.test_outcomes::test_fails', file: 'tests/test_outcomes.py', line: 10 });
  });

  it('caps the notable list and each text, and says so', async () => {
    const summary = await parseJUnitReport(xunit1, { maxNotable: 2, maxTextBytes: 40 });
    expect(summary.truncated).toBe(true);
    expect(summary.counts.failed).toBe(4);
    expect(summary.notable.map((test) => test.id)).toEqual(['tests/test_outcomes.py::test_fails', 'tests/test_outcomes.py::test_errors_in_setup']);
    expect(summary.notable[0]).toMatchObject({
      message: "AssertionError: assert {'status': 'open'\n… (truncated)",
      details: 'def test_fails():\n        expected = {"s\n… (truncated)',
      // The location still comes from the traceback's last line, which the cap cut off.
      file: 'tests/test_outcomes.py',
      line: 10,
    });
  });
});

describe('parseJUnitReport on broken reports', () => {
  it('names a truncated report and how far it got', async () => {
    const full = await readFile(xunit1, 'utf8');
    const cut = path.join(work.dir, 'truncated.xml');
    // Cut inside the 6th <testcase>: five were complete.
    const sixth = full.split('<testcase ').slice(0, 6).join('<testcase ').length;
    await writeFile(cut, full.slice(0, sixth + 40));
    const error = await parseJUnitReport(cut).catch((caught: unknown) => caught);
    expect(isQfError(error, 'TOOL_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(
      new RegExp(`^The JUnit report ${cut} is truncated or not valid XML \\(.+\\); counted 5 test cases before the break\\.$`),
    );
  });

  it('names a missing report', async () => {
    const missing = path.join(work.dir, 'none.xml');
    await expect(parseJUnitReport(missing)).rejects.toThrow(`The JUnit report ${missing} does not exist.`);
  });

  it('refuses XML that is not a JUnit report', async () => {
    const other = path.join(work.dir, 'other.xml');
    await writeFile(other, '<?xml version="1.0"?><coverage line-rate="0.9"/>');
    await expect(parseJUnitReport(other)).rejects.toThrow(`The JUnit report ${other} has no <testsuite> element; expected a pytest --junitxml report.`);
  });
});
