/** A shard of a job matrix: `index` counts from 1, as `qf run --shard 2/3` and a matrix `[1, 2, 3]` do. */
export interface ShardRef {
  index: number;
  total: number;
}

/** Most shards a run may be split into; a matrix has at most 256 jobs. */
export const MAX_SHARDS = 256;

/**
 * Splits `tests` into `total` shards by weight, longest first, each test to the shard with the least
 * weight so far (ties: the lower index). Deterministic for the same tests and weights whatever their
 * order: tests of equal weight are taken by id. Every test lands in exactly one shard.
 */
export function partitionTests(tests: readonly string[], weightOf: (id: string) => number, total: number): string[][] {
  const unique = [...new Set(tests)];
  const weighted = unique.map((id) => ({ id, weight: weightOf(id) }));
  weighted.sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const shards = Array.from({ length: total }, () => ({ tests: [] as string[], load: 0 }));
  for (const { id, weight } of weighted) {
    // A linear scan: N is at most 256, and this keeps ties on the lowest index without a heap's bookkeeping.
    let lightest = shards[0]!;
    for (const shard of shards) if (shard.load < lightest.load) lightest = shard;
    lightest.tests.push(id);
    lightest.load += weight;
  }
  return shards.map((shard) => shard.tests.sort());
}

/** The median of a list of numbers (the mean of the middle two for an even count); undefined when empty. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface ShardWeights {
  weightOf: (id: string) => number;
  balancedBy: 'timings' | 'file-size';
  /** Collected tests the history has a duration for. */
  withHistory: number;
  /** What the balance rests on, in one sentence (shown in the summary and the evidence). */
  note: string;
}

/**
 * Each test's weight: its duration in the history, the median of the known durations for a test the
 * history lacks; with no duration for any collected test, its file's size shared among the file's
 * tests (a larger test file usually takes longer), and the note says so.
 */
export function shardWeights(
  tests: readonly string[],
  history: { source: string; durations: ReadonlyMap<string, number> } | null,
  fileSizeOf: (file: string) => number,
): ShardWeights {
  const known = history ? tests.filter((id) => history.durations.has(id)) : [];
  const typical = median(known.map((id) => history!.durations.get(id)!));
  if (history && typical !== undefined) {
    const missing = tests.length - known.length;
    return {
      weightOf: (id) => history.durations.get(id) ?? typical,
      balancedBy: 'timings',
      withHistory: known.length,
      note: `Balanced by the durations in ${history.source} (${known.length} of ${tests.length} tests${missing > 0 ? `; the other ${missing} weigh the median, ${typical.toFixed(3)} s` : ''}).`,
    };
  }
  const perFile = new Map<string, number>();
  for (const id of tests) perFile.set(testFile(id), (perFile.get(testFile(id)) ?? 0) + 1);
  const sizes = new Map([...perFile.keys()].map((file) => [file, fileSizeOf(file)]));
  const why = history ? `${history.source} has no duration for any collected test` : 'no timing history was given';
  return {
    weightOf: (id) => (sizes.get(testFile(id)) ?? 1) / perFile.get(testFile(id))!,
    balancedBy: 'file-size',
    withHistory: 0,
    note: `Balanced by test file size: ${why}.`,
  };
}

/** The file part of a pytest node id (`tests/test_x.py::TestA::test_b[1]` → `tests/test_x.py`). */
export function testFile(id: string): string {
  const at = id.indexOf('::');
  return at === -1 ? id : id.slice(0, at);
}

/** `I/N` (`2/3`): shard I of N, 1 ≤ I ≤ N ≤ MAX_SHARDS; anything else is a message naming what was expected. */
export function parseShardRef(text: string): ShardRef | string {
  const match = /^(\d{1,3})\/(\d{1,3})$/.exec(text.trim());
  const expected = `expected I/N with 1 ≤ I ≤ N ≤ ${MAX_SHARDS} (e.g. 2/3), got "${text}"`;
  if (!match) return expected;
  const index = Number(match[1]);
  const total = Number(match[2]);
  return index >= 1 && index <= total && total <= MAX_SHARDS ? { index, total } : expected;
}
