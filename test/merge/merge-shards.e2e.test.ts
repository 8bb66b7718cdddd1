import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { verifyEvidence } from '../../src/evidence/verify-evidence.js';
import { runGit, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

/** Several real pytest runs in one test or hook, on a shared, loaded machine: a ceiling, not a timed assertion. */
const RUNS_TIMEOUT = 600_000;

const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };
const FLAKY = 'tests/test_flaky.py::test_flaky';

async function qf(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: BASE_ENV, cwd });
  return { code, stdout, stderr };
}

let repo: TempGitRepo;
let policy: string;
const work = (name: string) => path.join(path.dirname(repo.dir), name);
const readEvidence = async (dir: string) => JSON.parse(await readFile(path.join(dir, 'evidence.json'), 'utf8')) as Evidence;

async function shard(name: string, index: number, extra: string[] = []): Promise<string> {
  const out = work(name);
  const run = await qf(['run', '--repo', repo.dir, '--out', out, '--shard', `${index}/3`, ...extra], repo.dir);
  expect([ExitCode.pass, ExitCode.gateFailed], run.stderr).toContain(run.code);
  return out;
}

async function merge(name: string, dirs: string[]) {
  const out = work(name);
  const result = await qf(['merge', '--policy', policy, '--out', out, ...dirs], repo.dir);
  return { ...result, out };
}

beforeAll(async () => {
  repo = await tempGitRepo('sharded');
  policy = path.join(repo.dir, '.github/qualityfoundry.yml');
  for (const index of [1, 2, 3]) await shard(`shard-${index}`, index);
}, RUNS_TIMEOUT);
afterAll(() => repo.cleanup());

describe('qf merge of real shard bundles', () => {
  it('merges three shards into one verdict: the metrics add up, each bundle is copied, indexed and sealed', async () => {
    const merged = await merge('merged', [work('shard-3'), work('shard-1'), work('shard-2')]);
    expect(merged.code, merged.stderr).toBe(ExitCode.pass);
    expect(merged.stdout).toMatch(/^Merged 3 of 3 shards \(0 conflicts\)\.\nPASS · 14 passed, 0 failed, 0 errors, 1 skipped\n/);
    const evidence = await readEvidence(merged.out);
    expect(evidence.gate.verdict).toBe('pass');
    expect(evidence.metrics['pytest.total']).toBe(15);
    expect(evidence.metrics['governance.conflicts']).toBe(0);
    expect(evidence.steps.map((step) => step.id)).toEqual(['shard-1/unit', 'shard-2/unit', 'shard-3/unit']);
    expect(evidence.merge!.shards.map((entry) => [entry.index, entry.bundle, entry.verdict])).toEqual([
      [1, 'shards/1', 'pass'],
      [2, 'shards/2', 'pass'],
      [3, 'shards/3', 'pass'],
    ]);
    const indexed = evidence.artifacts.map((artifact) => artifact.path);
    for (const index of [1, 2, 3]) expect(indexed).toEqual(expect.arrayContaining([`shards/${index}/evidence.json`, `shards/${index}/reports/unit/junit.xml`]));
    const verified = await verifyEvidence(merged.out);
    expect(verified.ok).toBe(true);
    // Each copied bundle is still a bundle that verifies on its own.
    expect((await verifyEvidence(path.join(merged.out, 'shards/2'))).ok).toBe(true);
    expect(evidence.audit.map((event) => event.action)).toEqual(
      expect.arrayContaining(['merge.started', 'shard.accepted', 'psmp.declared', 'gate.decided', 'evidence.sealed']),
    );
  });

  it('blocks when a shard is missing: a missing dependency of the merge (strict mode)', async () => {
    const merged = await merge('merged-missing', [work('shard-1'), work('shard-2')]);
    expect(merged.code).toBe(ExitCode.gateFailed);
    const evidence = await readEvidence(merged.out);
    expect(evidence.gate.verdict).toBe('blocked');
    expect(evidence.governance.conflicts).toEqual([expect.objectContaining({ kind: 'missing_dependency', details: { missing: 'shard:3', iteration: 1 } })]);
    expect(evidence.gate.reasons[0]).toBe(
      'Conflict blocks the run: missing_dependency (open): "merge.result" version 1 by merge depends on "shard:3", which nobody has declared',
    );
    expect(evidence.merge!.shards[2]).toMatchObject({ index: 3, bundle: null, problems: ['missing: no evidence of this shard was found'] });
  });

  it('rejects a shard whose evidence was tampered with, merging nothing (exit 2)', async () => {
    const forged = work('shard-2-forged');
    await cp(work('shard-2'), forged, { recursive: true });
    const evidence = await readEvidence(forged);
    evidence.metrics['pytest.failed'] = 0;
    evidence.steps[0]!.tests!.counts.passed += 1;
    await writeFile(path.join(forged, 'evidence.json'), JSON.stringify(evidence, null, 2));
    const merged = await merge('merged-forged', [work('shard-1'), forged, work('shard-3')]);
    expect(merged.code).toBe(ExitCode.badInput);
    expect(merged.stderr).toContain(`qf merge: evidence rejected, nothing merged:\n  ✗ ${forged}: evidence.json was changed after it was sealed`);
  });

  it(
    'blocks on a shard of another commit: two answers to which commit the run is about',
    async () => {
      const other = await TempCommit.make(repo);
      try {
        const stray = await shard('shard-3-other', 3);
        const merged = await merge('merged-other', [work('shard-1'), work('shard-2'), stray]);
        expect(merged.code).toBe(ExitCode.gateFailed);
        const evidence = await readEvidence(merged.out);
        expect(evidence.gate.verdict).toBe('blocked');
        const heads = evidence.governance.conflicts.filter((conflict) => (conflict.details as { type?: string }).type === 'run.head');
        expect(heads.length).toBeGreaterThan(0);
        expect(String(heads[0]!.message)).toContain(
          `"run.head" in iteration 1 came from shard-1 (digest ${repo.head.slice(0, 12)}) and shard-3 (digest ${other.slice(0, 12)})`,
        );
      } finally {
        await runGit(repo.dir, ['reset', '-q', '--hard', repo.head]);
      }
    },
    RUNS_TIMEOUT,
  );

  it(
    'blocks when two shards report one test with different outcomes',
    async () => {
      // History A puts test_flaky first (shard 1); history B puts a slower test first, so test_flaky goes to shard 2.
      const historyA = work('history-a.json');
      const historyB = work('history-b.json');
      // Known fast tests keep the median (the weight of every test the history lacks) small.
      const fast = Object.fromEntries(Array.from({ length: 8 }, (_, n) => [`tests/test_fast.py::test_fast[${n}]`, 0.001]));
      await writeFile(historyA, JSON.stringify({ ...fast, [FLAKY]: 100 }));
      await writeFile(historyB, JSON.stringify({ ...fast, 'tests/test_slow.py::test_slow[2]': 200, [FLAKY]: 100 }));
      const passing = await shard('shard-1-a', 1, ['--timings', historyA]);
      const flake = path.join(repo.dir, 'tests/flake.txt');
      await writeFile(flake, 'fail\n');
      let failing: string;
      try {
        failing = await shard('shard-2-b', 2, ['--timings', historyB]);
      } finally {
        await rm(flake);
      }
      expect((await readFile(path.join(passing, 'reports/unit/selection.txt'), 'utf8')).split('\n')).toContain(FLAKY);
      expect((await readFile(path.join(failing, 'reports/unit/selection.txt'), 'utf8')).split('\n')).toContain(FLAKY);
      const merged = await merge('merged-disagree', [passing, failing, work('shard-3')]);
      expect(merged.code).toBe(ExitCode.gateFailed);
      const evidence = await readEvidence(merged.out);
      expect(evidence.gate.verdict).toBe('blocked');
      const messages = evidence.governance.conflicts.map((conflict) => String(conflict.message));
      expect(messages).toContain(`"test:${FLAKY}" in iteration 1 came from shard-1 (digest passed) and shard-2 (digest failed) with different content`);
      expect(messages).toContain(`"assignment:${FLAKY}" in iteration 1 came from shard-1 (digest shard-1) and shard-2 (digest shard-2) with different content`);
    },
    RUNS_TIMEOUT,
  );

  it(
    'counts a step that cannot split (run_command) once, and its metrics with it, though every shard ran it',
    async () => {
      const withLint = work('policy-lint.yml');
      const text = await readFile(policy, 'utf8');
      await writeFile(
        withLint,
        text
          .replace('tools: { allowlist: [run_pytest] }', 'tools: { allowlist: [run_pytest, run_command], commands: { lint: ["python3", "-c", "print(42)"] } }')
          .replace('plan:\n', 'plan:\n  - id: lint\n    when: { changed: ["**"] }\n    run: run_command\n    with: { command: lint }\n'),
      );
      const dirs: string[] = [];
      for (const index of [1, 2]) {
        const out = work(`lint-${index}`);
        const run = await qf(['run', '--repo', repo.dir, '--policy', withLint, '--out', out, '--shard', `${index}/2`], repo.dir);
        expect(run.code, run.stderr).toBe(ExitCode.pass);
        dirs.push(out);
      }
      const merged = await qf(['merge', '--policy', withLint, '--out', work('merged-lint'), ...dirs], repo.dir);
      expect(merged.code, merged.stderr).toBe(ExitCode.pass);
      const evidence = await readEvidence(work('merged-lint'));
      expect(evidence.steps.map((step) => step.id)).toEqual(['shard-1/lint', 'shard-1/unit', 'shard-2/unit']);
      expect(evidence.metrics).toMatchObject({ 'command.failed': 0, 'pytest.total': 15, 'steps.total': 3 });
    },
    RUNS_TIMEOUT,
  );

  it('answers in JSON, and rejects a shard of a matrix of another size', async () => {
    const json = await qf(['merge', '--json', '--policy', policy, '--out', work('merged-json'), work('shard-1'), work('shard-2'), work('shard-3')], repo.dir);
    expect(json.code).toBe(ExitCode.pass);
    expect(JSON.parse(json.stdout)).toMatchObject({
      verdict: 'pass',
      exitCode: 0,
      conflicts: 0,
      metrics: { 'pytest.total': 15 },
      shards: [
        { index: 1, verdict: 'pass', problems: [] },
        { index: 2, verdict: 'pass', problems: [] },
        { index: 3, verdict: 'pass', problems: [] },
      ],
    });
    const resized = await qf(['merge', '--total', '2', '--policy', policy, '--out', work('merged-resized'), work('shard-1')], repo.dir);
    expect(resized.code).toBe(ExitCode.badInput);
    expect(resized.stderr).toContain(`✗ ${work('shard-1')}: it is shard 1 of 3, not one of the 2 shards this merge expects`);
  });

  it('says what a command line lacks', async () => {
    expect((await qf(['merge', work('shard-1')], repo.dir)).stderr).toContain('--policy FILE is required');
    expect((await qf(['merge', '--policy', policy], repo.dir)).stderr).toContain("expected the shards' evidence folders (DIR…)");
  });
});

/** A commit on top of the fixture that changes no test: the same tests, another head. */
const TempCommit = {
  async make(target: TempGitRepo): Promise<string> {
    await writeFile(path.join(target.dir, 'NOTES.md'), 'another commit\n');
    await runGit(target.dir, ['add', '-A']);
    await runGit(target.dir, ['commit', '-q', '-m', 'another commit']);
    return (await runGit(target.dir, ['rev-parse', 'HEAD'])).trim();
  },
};
