import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { verifyEvidence } from '../../src/evidence/verify-evidence.js';
import { tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

/** Several real pytest runs in one test or hook, on a shared, loaded machine: a ceiling, not a timed assertion. */
const RUNS_TIMEOUT = 600_000;

const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

async function qf(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: BASE_ENV, cwd });
  return { code, stdout, stderr };
}

let repo: TempGitRepo;
let collected: string[];
const outDir = (name: string) => path.join(path.dirname(repo.dir), name);
const readEvidence = async (dir: string) => JSON.parse(await readFile(path.join(dir, 'evidence.json'), 'utf8')) as Evidence;
const lines = (text: string) => text.split('\n').filter(Boolean);
const junitIds = (xml: string) => [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)" file="([^"]*)"/g)].length;

beforeAll(async () => {
  repo = await tempGitRepo('sharded');
  // The ground truth: pytest's own collection of the project.
  const { stdout } = await execa('python3', ['-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider'], {
    cwd: repo.dir,
    env: { ...BASE_ENV, PYTHONDONTWRITEBYTECODE: '1' },
  });
  collected = stdout.split('\n').slice(0, stdout.split('\n').indexOf(''));
  expect(collected).toHaveLength(15);
});
afterAll(() => repo.cleanup());

describe('qf run --shard I/N on a real pytest project', () => {
  it(
    'without a history: three shards run every collected test exactly once, balanced by file size, and say so',
    async () => {
      const selections: string[][] = [];
      let total = 0;
      for (const index of [1, 2, 3]) {
        const out = outDir(`plain-${index}`);
        const run = await qf(['run', '--repo', repo.dir, '--out', out, '--shard', `${index}/3`], repo.dir);
        expect(run.code, run.stderr).toBe(ExitCode.pass);
        expect(run.stdout).toContain(`Shard ${index}/3: the merge (qf merge) gives the verdict of the whole run.`);
        expect(run.stdout).toContain('Balanced by test file size: no timing history was given.');
        const evidence = await readEvidence(out);
        const step = evidence.steps[0]!;
        expect(step.selection).toMatchObject({
          shard: { index, total: 3 },
          collected: 15,
          balancedBy: 'file-size',
          withHistory: 0,
          list: 'reports/unit/selection.txt',
        });
        expect(evidence.shard).toMatchObject({ index, total: 3 });
        expect(evidence.shard!.selectionSha256).toMatch(/^[0-9a-f]{64}$/);
        const selected = lines(await readFile(path.join(out, step.selection!.list), 'utf8'));
        expect(selected).toHaveLength(step.selection!.selected);
        // pytest ran exactly those tests: its report has one test case per selected id.
        expect(junitIds(await readFile(path.join(out, 'reports/unit/junit.xml'), 'utf8'))).toBe(selected.length);
        expect(evidence.metrics['pytest.total']).toBe(selected.length);
        total += evidence.metrics['pytest.total']!;
        selections.push(selected);
        // The list file and the selection are part of the sealed, indexed bundle.
        expect((await verifyEvidence(out)).ok).toBe(true);
        expect(evidence.artifacts.map((artifact) => artifact.path)).toContain('reports/unit/selection.txt');
      }
      expect(total).toBe(15);
      expect(selections.flat().sort()).toEqual([...collected].sort());
      expect(new Set(selections.flat()).size).toBe(15);
      expect(selections.every((selection) => selection.length > 0)).toBe(true);
    },
    RUNS_TIMEOUT,
  );

  it(
    'with --timings from an earlier run’s JUnit report: balanced by the durations, the three slow tests one per shard',
    async () => {
      const full = outDir('full');
      expect((await qf(['run', '--repo', repo.dir, '--out', full], repo.dir)).code).toBe(ExitCode.pass);
      const history = path.join(full, 'reports/unit/junit.xml');
      const slow = ['tests/test_slow.py::test_slow[0]', 'tests/test_slow.py::test_slow[1]', 'tests/test_slow.py::test_slow[2]'];
      const seen: string[] = [];
      for (const index of [1, 2, 3]) {
        const out = outDir(`timed-${index}`);
        const run = await qf(['run', '--repo', repo.dir, '--out', out, '--shard', `${index}/3`, '--timings', history], repo.dir);
        expect(run.code, run.stderr).toBe(ExitCode.pass);
        expect(run.stdout).toContain(`Balanced by the durations in ${history} (15 of 15 tests).`);
        const evidence = await readEvidence(out);
        expect(evidence.steps[0]!.selection).toMatchObject({ balancedBy: 'timings', withHistory: 15 });
        const selected = lines(await readFile(path.join(out, 'reports/unit/selection.txt'), 'utf8'));
        expect(selected.filter((id) => slow.includes(id))).toHaveLength(1);
        seen.push(...selected);
      }
      expect(seen.sort()).toEqual([...collected].sort());
      // Determinism for the same history and list: test/tools/partition-tests.test.ts.
    },
    RUNS_TIMEOUT,
  );

  it('refuses a shard outside 1..N, --timings without --shard, and a timings file that is not one', async () => {
    const bad = await qf(['run', '--repo', repo.dir, '--shard', '4/3'], repo.dir);
    expect(bad.code).toBe(ExitCode.badInput);
    expect(bad.stderr).toContain('qf run: --shard: expected I/N with 1 ≤ I ≤ N ≤ 256 (e.g. 2/3), got "4/3".');
    const lonely = await qf(['run', '--repo', repo.dir, '--timings', 'x.json'], repo.dir);
    expect(lonely.stderr).toContain('--timings FILE balances shards; it needs --shard I/N.');
    const missing = await qf(['run', '--repo', repo.dir, '--shard', '1/2', '--timings', 'nope.json'], repo.dir);
    expect(missing.code).toBe(ExitCode.badInput);
    expect(missing.stderr).toContain('does not exist; expected a JUnit report, a JSON file of durations or an evidence folder.');
    const notJson = path.join(repo.dir, 'pytest.ini');
    const garbage = await qf(['run', '--repo', repo.dir, '--shard', '1/2', '--timings', notJson], repo.dir);
    expect(garbage.stderr).toContain(`--timings: ${notJson} is neither a JUnit report nor valid JSON.`);
  });
});
