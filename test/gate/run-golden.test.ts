import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQfError } from '../../src/errors.js';
import { GoldenDatasetSchema } from '../../src/gate/golden-case.js';
import { runGoldenDataset } from '../../src/gate/run-golden.js';
import { parsePolicy } from '../../src/policy/load-policy.js';
import { parseSuite } from '../../src/tools/evals/load-suite.js';
import { ASSERTION_TYPES } from '../../src/tools/evals/suite-schema.js';
import { REPO_ROOT, tempDir } from '../support/temp-git-repo.js';

const DATASET = path.join(REPO_ROOT, 'golden/dataset.yaml');

describe('the committed golden dataset', () => {
  it('holds: every case gives its expected verdict, rule statuses and reasons', async () => {
    const results = await runGoldenDataset(DATASET);
    expect(results.filter((result) => !result.ok)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(12);
  });

  it('covers every verdict, every operator, both if_missing choices, budget, refusal, unfinished steps and playground', async () => {
    const dataset = GoldenDatasetSchema.parse(parse(await readFile(DATASET, 'utf8')));
    const policies = await Promise.all(
      dataset.cases.map(async (goldenCase) => {
        const text = goldenCase.policy ?? (await readFile(path.resolve(path.dirname(DATASET), goldenCase.policy_file!), 'utf8'));
        return parsePolicy(text, { path: goldenCase.name, sourceRef: null }).policy;
      }),
    );
    const verdicts = new Set(dataset.cases.map((goldenCase) => goldenCase.expect.verdict));
    expect([...verdicts].sort()).toEqual(['blocked', 'fail', 'needs_approval', 'pass']);
    const ops = new Set(policies.flatMap((policy) => policy.gate.map((rule) => rule.op)));
    expect([...ops].sort()).toEqual(['!=', '<', '<=', '==', '>', '>=']);
    const statuses = dataset.cases.flatMap((goldenCase) => goldenCase.evidence.steps.map((step) => step.status));
    expect(new Set(statuses)).toEqual(new Set(['passed', 'failed', 'error', 'timed_out', 'refused', 'skipped']));
    expect(policies.some((policy) => policy.gate.some((rule) => rule.if_missing === 'fail'))).toBe(true);
    expect(dataset.cases.some((goldenCase) => goldenCase.expect.rules && Object.values(goldenCase.expect.rules).includes('skipped'))).toBe(true);
    expect(dataset.cases.some((goldenCase) => goldenCase.evidence.short_circuit?.reason.includes('budget'))).toBe(true);
    expect(policies.some((policy) => policy.mode === 'playground')).toBe(true);
  });

  it('covers evals: every assertion type passing and failing, a regression, a veto and a spent token budget', async () => {
    const dataset = GoldenDatasetSchema.parse(parse(await readFile(DATASET, 'utf8')));
    const withEvals = dataset.cases.filter((goldenCase) => goldenCase.evals);
    const types = (pick: (status: string) => boolean) =>
      new Set(
        withEvals.flatMap((goldenCase) => {
          const suite = parseSuite(goldenCase.evals!.suite, goldenCase.name);
          return suite.cases
            .filter((entry) => pick(goldenCase.expect.cases[entry.id] ?? (goldenCase.expect.verdict === 'pass' ? 'passed' : '')))
            .flatMap((entry) => entry.assert.map((a) => a.type));
        }),
      );
    expect([...types((status) => status === 'passed')].sort()).toEqual([...ASSERTION_TYPES].sort());
    expect([...types((status) => status.startsWith('failed'))].sort()).toEqual([...ASSERTION_TYPES].sort());
    expect(withEvals.some((goldenCase) => Object.values(goldenCase.expect.cases).includes('failed/regressed'))).toBe(true);
    expect(dataset.cases.some((goldenCase) => goldenCase.evidence.vetoes.length > 0 && goldenCase.expect.verdict === 'blocked')).toBe(true);
    expect(dataset.cases.some((goldenCase) => goldenCase.evidence.short_circuit?.reason.includes('budget.llm_tokens'))).toBe(true);
  });
});

describe('runGoldenDataset', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    work = await tempDir();
  });
  afterAll(async () => {
    await work.cleanup();
  });

  it('reports metrics and eval cases that differ from what a case expects', async () => {
    const file = path.join(work.dir, 'evals.yaml');
    await writeFile(
      file,
      `cases:
  - name: evals on purpose
    policy: "version: 1\\n"
    evals:
      suite: "name: g\\ntarget: { command: [x] }\\ncases: [{ id: a, expected: 1, assert: [{ type: equals }] }]\\n"
      outputs: { a: 2 }
    evidence: {}
    expect:
      verdict: pass
      metrics: { evals.failed: 0, evals.regressions: 0 }
      cases: { a: passed, b: passed }
`,
    );
    expect(await runGoldenDataset(file)).toEqual([
      {
        name: 'evals on purpose',
        ok: false,
        problems: [
          'metric evals.failed is 1, expected 0',
          'metric evals.regressions is not measured, expected 0',
          'eval case a is failed, expected passed (equals: expected 1, got 2)',
          'eval case b is missing, expected passed',
        ],
      },
    ]);
  });

  it('reports each way a case can regress', async () => {
    const file = path.join(work.dir, 'wrong.yaml');
    await writeFile(
      file,
      `cases:
  - name: wrong on purpose
    policy: |
      version: 1
      gate:
        - { id: no-failures, metric: pytest.failed, op: "==", value: 0 }
    evidence:
      metrics: { pytest.failed: 1 }
    expect:
      verdict: pass
      rules: { no-failures: pass, ghost: fail }
      reasons: ["All 1 gate rules hold."]
`,
    );
    expect(await runGoldenDataset(file)).toEqual([
      {
        name: 'wrong on purpose',
        ok: false,
        problems: [
          'verdict fail, expected pass',
          'rule no-failures is fail, expected pass (pytest.failed is 1, expected == 0)',
          'rule ghost missing from the judgement',
          'missing reason "All 1 gate rules hold."; got: "Rule no-failures failed: pytest.failed is 1, expected == 0"',
        ],
      },
    ]);
  });

  it('refuses a dataset that does not fit its schema, naming where', async () => {
    const file = path.join(work.dir, 'bad.yaml');
    await writeFile(file, 'cases:\n  - name: x\n    evidence: {}\n    expect: { verdict: maybe }\n');
    const error = await runGoldenDataset(file).catch((caught: unknown) => caught);
    expect(isQfError(error, 'BAD_INPUT')).toBe(true);
    expect((error as Error).message).toBe(
      `Golden dataset ${file}: cases.0.expect.verdict: Invalid option: expected one of "pass"|"fail"|"needs_approval"|"blocked"`,
    );
    const missing = await runGoldenDataset(path.join(work.dir, 'none.yaml')).catch((caught: unknown) => caught);
    expect((missing as Error).message).toMatch(/^Cannot read golden dataset .+none\.yaml: ENOENT/);
  });
});
