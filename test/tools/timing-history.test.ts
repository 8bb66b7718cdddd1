import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTimingHistory } from '../../src/tools/timing-history.js';
import { tempDir } from '../support/temp-git-repo.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('qf-timings-')));
afterAll(() => cleanup());

const JUNIT = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="2">
<testcase classname="tests.test_a" name="test_x" file="tests/test_a.py" line="1" time="1.500" />
<testcase classname="tests.test_a.TestK" name="test_y[1]" file="tests/test_a.py" line="4" time="0.250"><failure message="boom">x</failure></testcase>
</testsuite></testsuites>`;

describe('readTimingHistory on a hostile checkout (the Action reads it from the pull request)', () => {
  const SECRET = 'ghs_secretTokenValue0123456789';
  it('never follows a link, nor reads a report outside the folder it is confined to, nor quotes what a file holds', async () => {
    const outside = path.join(dir, 'outside');
    const checkout = path.join(dir, 'checkout');
    await mkdir(outside);
    await mkdir(path.join(checkout, 'history'), { recursive: true });
    await writeFile(path.join(outside, 'secret.env'), `TOKEN=${SECRET}\n`);
    await writeFile(path.join(outside, 'junit.xml'), JUNIT);
    // A link as the timings file itself, and a link to a report outside inside a timings folder.
    await symlink(path.join(outside, 'secret.env'), path.join(checkout, 'timings.json'));
    await symlink(path.join(outside, 'junit.xml'), path.join(checkout, 'history', 'junit.xml'));
    const link = readTimingHistory(path.join(checkout, 'timings.json'), { within: checkout });
    await expect(link).rejects.toThrow('is a symbolic link; it is not followed.');
    await expect(readTimingHistory(path.join(checkout, 'history'), { within: checkout })).rejects.toThrow('holds no JUnit report (*.xml)');
    // A regular file holding a secret-looking text: the message says it is not JSON, never what it holds.
    await writeFile(path.join(checkout, 'plain.json'), `TOKEN=${SECRET}\n`);
    const error = await readTimingHistory(path.join(checkout, 'plain.json'), { within: checkout }).catch((thrown: Error) => thrown);
    expect((error as Error).message).toBe(`--timings: ${path.join(checkout, 'plain.json')} is neither a JUnit report nor valid JSON.`);
  });
});

describe('readTimingHistory', () => {
  it('reads a JUnit report: node ids as pytest collects them, durations in seconds', async () => {
    const file = path.join(dir, 'junit.xml');
    await writeFile(file, JUNIT);
    const history = await readTimingHistory(file);
    expect(history.source).toBe(file);
    expect([...history.durations]).toEqual([
      ['tests/test_a.py::test_x', 1.5],
      ['tests/test_a.py::TestK::test_y[1]', 0.25],
    ]);
  });

  it('reads a JSON object of durations, bare or under "tests", and an evidence folder’s reports', async () => {
    const bare = path.join(dir, 'bare.json');
    await writeFile(bare, JSON.stringify({ 'a::b': 2 }));
    expect([...(await readTimingHistory(bare)).durations]).toEqual([['a::b', 2]]);
    const nested = path.join(dir, 'nested.json');
    await writeFile(nested, JSON.stringify({ tests: { 'a::c': 0 } }));
    expect([...(await readTimingHistory(nested)).durations]).toEqual([['a::c', 0]]);
    const evidence = path.join(dir, 'evidence');
    await mkdir(path.join(evidence, 'reports/unit'), { recursive: true });
    await writeFile(path.join(evidence, 'reports/unit/junit.xml'), JUNIT);
    const folder = await readTimingHistory(evidence);
    expect(folder.source).toBe(`1 JUnit report(s) in ${evidence}`);
    expect(folder.durations.get('tests/test_a.py::test_x')).toBe(1.5);
  });

  it('names what is wrong with a file that is not a history', async () => {
    const negative = path.join(dir, 'negative.json');
    await writeFile(negative, JSON.stringify({ 'a::b': -1 }));
    await expect(readTimingHistory(negative)).rejects.toThrow(`--timings: ${negative}: the duration of test number 1 is not a number of seconds ≥ 0.`);
    const list = path.join(dir, 'list.json');
    await writeFile(list, '[1, 2]');
    await expect(readTimingHistory(list)).rejects.toThrow('must hold a JSON object of test id → seconds');
    const broken = path.join(dir, 'broken.xml');
    await writeFile(broken, '<testsuites><testsuite><testcase');
    await expect(readTimingHistory(broken)).rejects.toThrow(/^--timings: The JUnit report .* is truncated or not valid XML/);
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    await expect(readTimingHistory(empty)).rejects.toThrow('holds no JUnit report (*.xml)');
  });
});
