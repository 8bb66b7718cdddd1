import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubprocessSandbox } from '../../../src/sandbox/subprocess-sandbox.js';
import { runEvalsTool } from '../../../src/tools/evals/run-evals.js';
import type { ToolContext } from '../../../src/tools/tool-definition.js';
import { tempDir } from '../../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

/** A command target: {"a", "b"} → their sum, with cases that crash, hang, print text or echo their stdin. */
const CALC = `import json, sys, time
case = json.load(sys.stdin)
kind = case["input"].get("kind")
if kind == "crash":
    raise ValueError("boom on purpose")
if kind == "hang":
    time.sleep(30)
if kind == "text":
    print("not json at all")
    sys.exit(0)
if kind == "echo":
    print(json.dumps(case))
    sys.exit(0)
print(json.dumps(case["input"]["a"] + case["input"]["b"]))
`;

/** A python target; \`flaky\` passes on every other call (a counter file of its own). */
const APP = `import json, os
def answer(question):
    print("noise on stdout must not become the output")
    if question == "capital of France?":
        return {"city": "Paris", "confidence": 0.9}
    return {"city": "unknown"}

def flaky(counter):
    n = int(open(counter).read()) if os.path.exists(counter) else 0
    open(counter, "w").write(str(n + 1))
    return "ok" if n % 2 == 0 else "bad"

def greet(name, punctuation):
    return "Hello, " + name + punctuation
`;

let work: { dir: string; cleanup: () => Promise<void> };
let repoDir: string;
let runs = 0;

async function write(files: Record<string, string>) {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(repoDir, file)), { recursive: true });
    await writeFile(path.join(repoDir, file), text);
  }
}

function context(overrides: Partial<ToolContext> = {}): ToolContext {
  return {
    repoDir,
    stepDir: path.join(work.dir, 'out', `step-${++runs}`),
    sandbox: new SubprocessSandbox(),
    env: ENV,
    timeoutMs: 120_000,
    maxOutputBytes: 65_536,
    commands: {},
    ...overrides,
  };
}

beforeAll(async () => {
  work = await tempDir();
  repoDir = path.join(work.dir, 'repo');
  await write({ 'calc.py': CALC, 'app.py': APP });
});
afterAll(() => work.cleanup());

describe('run_evals with command and python targets in the subprocess sandbox', () => {
  it('runs every case, scores it, and reports crashes, timeouts and non-JSON output as errors of their case', async () => {
    await write({
      'evals/calc.yaml': `name: calc
target: { command: [python3, calc.py] }
cases:
  - { id: add, input: { a: 2, b: 3 }, expected: 5, assert: [{ type: equals }] }
  - { id: wrong, input: { a: 2, b: 2 }, expected: 5, assert: [{ type: equals }, { type: within, tolerance: 0.5 }] }
  - { id: crash, input: { kind: crash } }
  - { id: hang, input: { kind: hang }, timeout_seconds: 1 }
  - { id: text, input: { kind: text } }
  - id: sees-no-expected
    input: { kind: echo }
    expected: secret
    assert: [{ type: json-path, path: "$.id", equals: sees-no-expected }, { type: not-contains, value: secret }]
`,
    });
    const ctx = context();
    const run = await runEvalsTool.run({ suites: ['evals/calc.yaml'], base: false }, ctx);
    expect([run.status, run.reason]).toEqual(['passed', '2 of 6 eval cases passed in 1 suite; 4 did not.']);
    expect(run.metrics).toEqual({
      'evals.total': 6,
      'evals.passed': 2,
      'evals.failed': 4,
      'evals.errors': 3,
      'evals.vetoed': 0,
      'evals.skipped': 0,
      'evals.pass_rate': 0.3333,
      'evals.pass_k': 0.3333,
      'evals.tokens': 0,
      'evals.cost_usd': 0,
      'evals.calc.pass_rate': 0.3333,
    });
    const cases = run.evals!.cases;
    expect(cases.map((entry) => [entry.id, entry.status])).toEqual([
      ['crash', 'error'],
      ['hang', 'error'],
      ['text', 'error'],
      ['wrong', 'failed'],
    ]);
    const failures = Object.fromEntries(cases.map((entry) => [entry.id, entry.failures]));
    expect(failures.crash![0]).toMatch(/^`python3 calc.py` exited with code 1: [\s\S]*ValueError: boom on purpose$/);
    expect(failures.hang).toEqual(['`python3 calc.py` ran past the 1 s deadline of one case and was killed']);
    expect(failures.text).toEqual(['`python3 calc.py` printed something other than one JSON value on stdout: "not json at all"']);
    expect(failures.wrong).toEqual(['equals: expected 5, got 4', 'within: 4 is not within 0.5 of 5']);
    expect(cases.find((entry) => entry.id === 'wrong')).toMatchObject({ input: '{"a":2,"b":2}', expected: '5', output: '4', score: 0 });

    // Every case, whole, in the step's evals.json (an artifact of the step).
    expect(run.artifacts).toEqual([path.join(ctx.stepDir, 'evals.json')]);
    const report = JSON.parse(await readFile(run.artifacts[0]!, 'utf8')) as { suites: Array<{ cases: Array<{ id: string; status: string }> }> };
    expect(report.suites[0]!.cases.map((entry) => entry.id)).toEqual(['add', 'wrong', 'crash', 'hang', 'text', 'sees-no-expected']);
  });

  it('calls a python module:function with the input or the vars, keeping its prints out of the output', async () => {
    await write({
      'evals/qa.yaml': `name: qa
target: { python: "app:answer" }
assert: [{ type: is-json }]
cases:
  - id: france
    input: capital of France?
    assert:
      - { type: json-schema, schema: { type: object, required: [city] } }
      - { type: json-path, path: $.city, equals: Paris }
      - { type: latency-ms, max: 10000 }
  - { id: mars, input: capital of Mars?, assert: [{ type: json-path, path: $.city, equals: Olympus }] }
`,
      'evals/greet.yaml': `name: greet
target: { python: "app:greet" }
cases:
  - { id: hello, vars: { name: Ada, punctuation: "!" }, expected: "Hello, Ada!", assert: [{ type: equals }, { type: similarity, method: rouge-l }] }
`,
    });
    const run = await runEvalsTool.run({ suites: ['evals/qa.yaml', 'evals/greet.yaml'], base: false }, context());
    expect(run.evals!.suites.map((suite) => [suite.name, suite.passed, suite.total])).toEqual([
      ['greet', 1, 1],
      ['qa', 1, 2],
    ]);
    expect(run.evals!.cases).toMatchObject([
      { id: 'mars', status: 'failed', output: '{"city":"unknown"}', failures: ['json-path: $.city: expected "Olympus", got "unknown"'] },
    ]);
    expect(run.metrics['evals.qa.pass_rate']).toBe(0.5);
    expect(run.metrics['evals.greet.pass_rate']).toBe(1);
  });

  it('repeats a case and passes it when min_passes of its runs pass; pass^k counts cases all of whose runs passed', async () => {
    const counter = (name: string) => path.join(work.dir, `${name}.count`);
    await write({
      'evals/flaky.yaml': `name: flaky
target: { python: "app:flaky" }
repeat: 4
cases:
  - { id: tolerated, input: ${JSON.stringify(counter('a'))}, expected: ok, min_passes: 2, assert: [{ type: equals }] }
  - { id: strict, input: ${JSON.stringify(counter('b'))}, expected: ok, assert: [{ type: equals }] }
  - { id: steady, input: ${JSON.stringify(counter('c'))}, repeat: 1, expected: ok, assert: [{ type: equals }] }
`,
    });
    const run = await runEvalsTool.run({ suites: ['evals/flaky.yaml'], base: false }, context());
    const flaky = run.evals!.suites.find((suite) => suite.name === 'flaky')!;
    expect([flaky.passed, flaky.failed, flaky.passRate, flaky.passK]).toEqual([2, 1, 0.6667, 0.3333]);
    expect(run.evals!.cases.filter((entry) => entry.suite === 'flaky')).toMatchObject([
      { id: 'strict', status: 'failed', runs: 4, passes: 2, score: 0.5, failures: ['equals: expected "ok", got "bad"'] },
    ]);
  });

  it('weighs assertions and passes a case whose weighted score reaches its threshold', async () => {
    await write({
      'evals/weights.yaml': `name: weights
target: { command: [python3, calc.py] }
threshold: 0.75
cases:
  - id: mostly
    input: { a: 1, b: 1 }
    assert: [{ type: equals, value: 2, weight: 3 }, { type: contains, value: "x" }]
  - id: half
    input: { a: 1, b: 1 }
    assert: [{ type: equals, value: 2 }, { type: contains, value: "x" }]
  - id: strict-case
    input: { a: 1, b: 1 }
    threshold: 1
    assert: [{ type: equals, value: 2, weight: 3 }, { type: contains, value: "x" }]
`,
    });
    const run = await runEvalsTool.run({ suites: ['evals/weights.yaml'], base: false }, context());
    expect(run.evals!.cases.map((entry) => [entry.id, entry.status, entry.score])).toEqual([
      ['half', 'failed', 0.5],
      ['strict-case', 'failed', 0.75],
    ]);
  });

  it('errors with the position of a broken suite file, and when no suite matches', async () => {
    await write({ 'broken/bad.yaml': 'name: bad\ntarget: { command: [python3, calc.py] }\ncases: [{ id: a, assert: [{ type: equal }] }]\n' });
    const broken = await runEvalsTool.run({ suites: ['broken/*.yaml'], base: false }, context());
    expect([broken.status, broken.reason]).toEqual([
      'error',
      'Eval suite broken/bad.yaml has 1 problem:\nbroken/bad.yaml:3:35: cases[0].assert[0].type: unknown assertion type "equal"; did you mean "equals"?',
    ]);
    const none = await runEvalsTool.run({ suites: ['nowhere/*.yaml'], base: false }, context());
    expect([none.status, none.reason]).toEqual(['error', 'no eval suite file matches nowhere/*.yaml']);
  });

  it("skips the cases left when the step's deadline is reached, and times the step out", async () => {
    await write({
      'late/slow.yaml': `name: slow
target: { command: [python3, calc.py] }
cases:
  - { id: first, input: { kind: hang } }
  - { id: second, input: { a: 1, b: 2 } }
`,
    });
    const run = await runEvalsTool.run({ suites: ['late/*.yaml'], base: false }, context({ timeoutMs: 1_000 }));
    expect([run.status, run.reason]).toEqual(['timed_out', "the step's deadline was reached with 1 of 2 eval cases not run."]);
    expect(run.evals!.cases.map((entry) => [entry.id, entry.status, entry.failures[0]])).toEqual([
      ['first', 'error', '`python3 calc.py` ran past the 1 s deadline of one case and was killed'],
      ['second', 'skipped', "skipped: the step's deadline was reached"],
    ]);
  });
});
