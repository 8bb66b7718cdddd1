import { describe, expect, it } from 'vitest';
import { median, parseShardRef, partitionTests, shardWeights, testFile } from '../../src/tools/partition-tests.js';
import { parseCollectedIds, testListDigest } from '../../src/tools/pytest-shard.js';

const durations = new Map([
  ['t::a', 10],
  ['t::b', 7],
  ['t::c', 5],
  ['t::d', 4],
  ['t::e', 3],
  ['t::f', 1],
]);
const weight = (id: string) => durations.get(id) ?? 0;

describe('partitionTests', () => {
  it('assigns longest first, each to the lightest shard (ties: the lower index)', () => {
    // a(10)→1, b(7)→2, c(5)→2 (7<10), d(4)→1 (10<12), e(3)→2 (12<14), f(1)→1 (14<15)
    expect(partitionTests([...durations.keys()], weight, 2)).toEqual([
      ['t::a', 't::d', 't::f'],
      ['t::b', 't::c', 't::e'],
    ]);
  });

  it('puts every test in exactly one shard, the same split whatever the input order, duplicates once', () => {
    const tests = Array.from({ length: 500 }, (_, i) => `tests/test_${i % 7}.py::test_${i}`);
    const weightOf = (id: string) => (Number(id.split('_').at(-1)) % 13) + 0.5;
    const forward = partitionTests(tests, weightOf, 4);
    const shuffled = partitionTests([...tests].reverse().concat(tests.slice(0, 50)), weightOf, 4);
    expect(shuffled).toEqual(forward);
    const all = forward.flat();
    expect(all).toHaveLength(500);
    expect(new Set(all).size).toBe(500);
  });

  it('leaves shards empty when there are more shards than tests', () => {
    expect(partitionTests(['x::1'], () => 1, 3)).toEqual([['x::1'], [], []]);
  });
});

describe('shardWeights', () => {
  const tests = ['tests/a.py::t1', 'tests/a.py::t2', 'tests/b.py::t3', 'tests/c.py::t4'];
  it('weighs tests by their recorded duration and unknown ones by the median, and says so', () => {
    const history = {
      source: 'junit.xml',
      durations: new Map([
        ['tests/a.py::t1', 1],
        ['tests/a.py::t2', 3],
        ['tests/b.py::t3', 8],
        ['gone::x', 100],
      ]),
    };
    const weights = shardWeights(tests, history, () => 1);
    expect(weights.balancedBy).toBe('timings');
    expect(weights.withHistory).toBe(3);
    expect(tests.map(weights.weightOf)).toEqual([1, 3, 8, 3]);
    expect(weights.note).toBe('Balanced by the durations in junit.xml (3 of 4 tests; the other 1 weigh the median, 3.000 s).');
  });

  it('falls back to file size shared among the file’s tests when no history (or none of it) applies, and says so', () => {
    const sizes: Record<string, number> = { 'tests/a.py': 400, 'tests/b.py': 100, 'tests/c.py': 50 };
    const none = shardWeights(tests, null, (file) => sizes[file]!);
    expect(none.balancedBy).toBe('file-size');
    expect(tests.map(none.weightOf)).toEqual([200, 200, 100, 50]);
    expect(none.note).toBe('Balanced by test file size: no timing history was given.');
    const stale = shardWeights(tests, { source: 'old.json', durations: new Map([['gone::x', 1]]) }, (file) => sizes[file]!);
    expect(stale.balancedBy).toBe('file-size');
    expect(stale.note).toBe('Balanced by test file size: old.json has no duration for any collected test.');
  });
});

describe('helpers', () => {
  it('median, testFile, parseShardRef', () => {
    expect(median([])).toBeUndefined();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(testFile('tests/x.py::TestA::test_b[1::2]')).toBe('tests/x.py');
    expect(parseShardRef('2/3')).toEqual({ index: 2, total: 3 });
    expect(parseShardRef('0/3')).toBe('expected I/N with 1 ≤ I ≤ N ≤ 256 (e.g. 2/3), got "0/3"');
    expect(parseShardRef('4/3')).toMatch(/^expected I\/N/);
    expect(parseShardRef('1/300')).toMatch(/^expected I\/N/);
    expect(parseShardRef('a/b')).toMatch(/^expected I\/N/);
  });

  it('reads node ids from pytest --collect-only -q up to its summary', () => {
    const stdout =
      'tests/a.py::t[1]\ntests/a.py::t[a b]\ntests/a.py::t[1]\n\n===== warnings summary =====\ntests/a.py:7\n  UserWarning\n\n3 tests collected in 0.01s\n';
    expect(parseCollectedIds(stdout)).toEqual(['tests/a.py::t[1]', 'tests/a.py::t[a b]']);
    expect(parseCollectedIds('\nno tests ran in 0.01s\n')).toEqual([]);
    expect(testListDigest(['b', 'a'])).toBe(testListDigest(['a', 'b']));
  });
});
