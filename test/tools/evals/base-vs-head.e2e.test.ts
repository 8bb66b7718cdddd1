import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noApprovals } from '../../../src/cli/cli-approval-source.js';
import { orchestrate } from '../../../src/orchestrator/orchestrate.js';
import { parsePolicy } from '../../../src/policy/load-policy.js';
import { runGit, tempDir } from '../../support/temp-git-repo.js';

// A real two-commit repository: on the head, `double` regresses, `triple` is fixed, `half` is new
// and `square` is gone; `one` stays as it was.

const target = (side: string, double: string, triple: string) => `import json, os, sys
with open(os.environ["EVAL_COUNTER"], "a") as counter:
    counter.write("${side}\\n")
case = json.load(sys.stdin)
n = case["input"]
op = case["id"]
print(json.dumps({"double": ${double}, "triple": ${triple}, "half": n / 2, "square": n * n, "one": 1}[op]))
`;

const suite = (cases: string[]) => `name: math
target: { command: [python3, math_target.py] }
cases:
${cases.map((line) => `  - ${line}`).join('\n')}
`;

const POLICY = `version: 1
sandbox: { env_allowlist: [PATH, HOME, EVAL_COUNTER] }
tools: { allowlist: [run_evals] }
plan:
  - { id: evals, when: { always: true }, run: run_evals }
gate:
  - { id: no-regressions, metric: evals.regressions, op: "==", value: 0 }
`;

let work: { dir: string; cleanup: () => Promise<void> };
let repoDir: string;
let baseSha: string;
let counter: string;

async function commit(files: Record<string, string>, message: string): Promise<string> {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(repoDir, file)), { recursive: true });
    await writeFile(path.join(repoDir, file), text);
  }
  await runGit(repoDir, ['add', '-A']);
  await runGit(repoDir, ['commit', '-q', '-m', message]);
  return (await runGit(repoDir, ['rev-parse', 'HEAD'])).trim();
}

beforeAll(async () => {
  work = await tempDir();
  repoDir = path.join(work.dir, 'repo');
  counter = path.join(work.dir, 'counter');
  await mkdir(repoDir);
  await runGit(repoDir, ['init', '-q']);
  baseSha = await commit(
    {
      'math_target.py': target('base', 'n * 2', 'n * 2'),
      'evals/math.yaml': suite([
        '{ id: double, input: 4, expected: 8, assert: [{ type: equals }] }',
        '{ id: triple, input: 4, expected: 12, assert: [{ type: equals }] }',
        '{ id: square, input: 3, expected: 9, assert: [{ type: equals }] }',
        '{ id: one, input: 0, expected: 1, assert: [{ type: equals }] }',
      ]),
    },
    'base',
  );
  await commit(
    {
      'math_target.py': target('head', 'n + 2', 'n * 3'),
      'evals/math.yaml': suite([
        '{ id: double, input: 4, expected: 8, assert: [{ type: equals }] }',
        '{ id: triple, input: 4, expected: 12, assert: [{ type: equals }] }',
        '{ id: half, input: 4, expected: 2, assert: [{ type: equals }] }',
        '{ id: one, input: 0, expected: 1, assert: [{ type: equals }] }',
      ]),
    },
    'head: double regresses, triple fixed',
  );
});
afterAll(() => work.cleanup());

async function run(name: string, cacheDir: string) {
  return orchestrate({
    repoDir,
    outDir: path.join(work.dir, name),
    policy: parsePolicy(POLICY, { path: 'inline.yml', sourceRef: null }),
    change: { base: baseSha, head: 'HEAD', changedFiles: ['math_target.py', 'evals/math.yaml'], labels: [] },
    approvals: noApprovals,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', EVAL_COUNTER: counter },
    runId: name,
    cacheDir,
  });
}

describe('run_evals, base against head in one run', () => {
  it('runs the base on a clean worktree of its commit, classifies every case, and keeps the base results for the next run', async () => {
    const cacheDir = path.join(work.dir, 'cache');
    const first = await run('first', cacheDir);
    const { evidence } = first;
    expect(evidence.gate.verdict).toBe('fail');
    expect(evidence.gate.reasons).toEqual(['Rule no-regressions failed: evals.regressions is 1, expected == 0']);
    expect(evidence.metrics).toMatchObject({ 'evals.regressions': 1, 'evals.fixed': 1, 'evals.total': 4, 'evals.passed': 3 });
    expect(
      evidence.steps[0]!.evals!.cases.map((entry) => [
        entry.id,
        entry.status,
        entry.comparison,
        entry.baseStatus ?? null,
        entry.baseOutput ?? null,
        entry.output ?? null,
      ]),
    ).toEqual([
      ['double', 'failed', 'regressed', 'passed', '8', '6'],
      ['square', 'passed', 'removed', 'passed', '9', '9'],
      ['half', 'passed', 'new', null, null, '2'],
      ['triple', 'passed', 'fixed', 'failed', '8', '12'],
    ]);
    expect(evidence.steps[0]!.reason).toBe(
      `3 of 4 eval cases passed in 1 suite; 1 did not. Against the base ${baseSha.slice(0, 12)}: 1 regressed, 1 fixed, 1 case removed.`,
    );
    // Each side ran its own code: the base's four cases, the head's four.
    expect((await readFile(counter, 'utf8')).split('\n').filter(Boolean).sort()).toEqual(['base', 'base', 'base', 'base', 'head', 'head', 'head', 'head']);
    // The worktree is gone, and git no longer lists it.
    expect((await runGit(repoDir, ['worktree', 'list'])).trim().split('\n')).toHaveLength(1);
    const summary = await readFile(first.summaryPath, 'utf8');
    expect(summary).toContain('| `math` | 3/4 | 0.75 | 0.75 | 1 / 1 | 1 | 0 | 0 | 0 |');
    expect(summary).toContain('| ❌ failed (regressed from passed) | `math/double` | `4` | `8` | `8` | `6` | equals: expected 8, got 6 |');

    await writeFile(counter, '');
    const second = await run('second', cacheDir);
    expect(await readFile(counter, 'utf8')).toBe('head\nhead\nhead\nhead\n'); // the base did not run again
    expect(second.evidence.steps[0]!.evals!.cases.map((entry) => [entry.id, entry.comparison])).toEqual([
      ['double', 'regressed'],
      ['square', 'removed'],
      ['half', 'new'],
      ['triple', 'fixed'],
    ]);
    expect(second.evidence.steps[0]!.reason).toContain('(1 suite from the cache)');
  });

  it('says why it did not compare when the base commit is not in the repository', async () => {
    const outcome = await orchestrate({
      repoDir,
      outDir: path.join(work.dir, 'no-base'),
      policy: parsePolicy(POLICY, { path: 'inline.yml', sourceRef: null }),
      change: { base: 'f'.repeat(40), head: 'HEAD', changedFiles: [], labels: [] },
      approvals: noApprovals,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', EVAL_COUNTER: counter },
      runId: 'no-base',
    });
    expect(outcome.evidence.steps[0]!.reason).toBe(
      `3 of 4 eval cases passed in 1 suite; 1 did not. Not compared with the base: the base commit ${'f'.repeat(40)} is not in the repository (a shallow clone? check out with fetch-depth: 0).`,
    );
    expect(outcome.evidence.metrics['evals.regressions']).toBeUndefined();
    expect(outcome.evidence.gate.rules[0]).toMatchObject({ status: 'skipped' });
  });

  it("leaves a suite uncompared when the base's version of it cannot be read, and says so", async () => {
    const other = path.join(work.dir, 'other');
    await mkdir(other);
    await runGit(other, ['init', '-q']);
    const write = async (files: Record<string, string>, message: string) => {
      for (const [file, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(other, file)), { recursive: true });
        await writeFile(path.join(other, file), text);
      }
      await runGit(other, ['add', '-A']);
      await runGit(other, ['commit', '-q', '-m', message]);
      return (await runGit(other, ['rev-parse', 'HEAD'])).trim();
    };
    const base = await write(
      { 'math_target.py': target('base', 'n * 2', 'n * 3'), 'evals/math.yaml': 'name: math\ntarget: { command: [python3, math_target.py] }\ncasez: []\n' },
      'base',
    );
    await write({ 'evals/math.yaml': suite(['{ id: double, input: 1, expected: 2, assert: [{ type: equals }] }']) }, 'head');
    const outcome = await orchestrate({
      repoDir: other,
      outDir: path.join(work.dir, 'unreadable'),
      policy: parsePolicy(POLICY, { path: 'inline.yml', sourceRef: null }),
      change: { base, head: 'HEAD', changedFiles: [], labels: [] },
      approvals: noApprovals,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', EVAL_COUNTER: counter },
      runId: 'unreadable',
    });
    expect(outcome.evidence.steps[0]!.reason).toBe(
      `1 of 1 eval cases passed in 1 suite. Against the base ${base.slice(0, 12)}: 0 regressed, 0 fixed, 0 cases removed. Note: the base's evals/math.yaml could not be read, so its cases are not compared: evals/math.yaml:3:1: casez: unknown key "casez"; did you mean "cases"?.`,
    );
    expect(outcome.evidence.steps[0]!.evals!.cases).toEqual([]);
  });
});
