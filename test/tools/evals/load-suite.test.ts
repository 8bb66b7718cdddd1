import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSuite, parseCasesJsonl, parseSuite } from '../../../src/tools/evals/load-suite.js';
import { tempDir } from '../../support/temp-git-repo.js';

const problemsOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a SuiteError');
};

describe('parseSuite', () => {
  it('reads a suite with defaults filled in', () => {
    const suite = parseSuite(
      `name: qa
target: { command: [python3, app.py] }
cases:
  - { id: a, input: "hi", expected: "HI", assert: [{ type: equals }] }
`,
      'evals/qa.yaml',
    );
    expect(suite).toEqual({
      name: 'qa',
      target: { command: ['python3', 'app.py'] },
      timeout_seconds: 30,
      threshold: 1,
      repeat: 1,
      assert: [],
      cases: [{ id: 'a', input: 'hi', expected: 'HI', assert: [{ type: 'equals', weight: 1 }] }],
      cache: true,
    });
  });

  it.each([
    ['broken YAML, at its position', 'name: qa\ntarget: { command: [x]\ncases: []\n', /^evals\/s\.yaml:3:1: not valid YAML: Flow map in block collection/m],
    [
      'an unknown assertion type, with did-you-mean',
      'name: qa\ntarget: { command: [x] }\ncases:\n  - id: a\n    assert:\n      - { type: contain, value: x }\n',
      'evals/s.yaml:6:17: cases[0].assert[0].type: unknown assertion type "contain"; did you mean "contains"?',
    ],
    [
      'a type far from any, listing them all',
      'name: qa\ntarget: { command: [x] }\ncases:\n  - id: a\n    assert: [{ type: banana }]\n',
      'evals/s.yaml:5:22: cases[0].assert[0].type: unknown assertion type "banana"; expected one of: equals, contains, not-contains, regex, is-json, json-schema, json-path, within, latency-ms, tokens, cost-usd, similarity, llm-rubric',
    ],
    [
      'an unknown key, with did-you-mean',
      'name: qa\ntarget: { command: [x] }\ncasess: []\n',
      'evals/s.yaml:3:1: casess: unknown key "casess"; did you mean "cases"?',
    ],
    ['a bad suite name', 'name: QA\ntarget: { command: [x] }\n', 'evals/s.yaml:1:7: name: a lower-case name of letters, digits, _ and -, got "QA"'],
    [
      'a case id twice',
      'name: qa\ntarget: { command: [x] }\ncases:\n  - { id: a }\n  - { id: a }\n',
      'evals/s.yaml:5:11: cases[1].id: case id "a" appears twice',
    ],
  ])('refuses %s', (_name, text, expected) => {
    const message = problemsOf(() => parseSuite(text, 'evals/s.yaml'));
    if (typeof expected === 'string') expect(message.split('\n').slice(1)).toEqual([expected]);
    else expect(message).toMatch(expected);
  });

  it('lists every problem of a file, in source order', () => {
    const message = problemsOf(() =>
      parseSuite('name: qa\ntarget: { command: [] }\nrepeat: 0\ncases:\n  - { id: a, assert: [{ type: regexp, pattern: x }] }\n', 'evals/s.yaml'),
    );
    expect(message).toBe(
      [
        'Eval suite evals/s.yaml has 3 problems:',
        'evals/s.yaml:2:20: target.command: Too small: expected array to have >=1 items, got "(a list)"',
        'evals/s.yaml:3:9: repeat: Too small: expected number to be >=1, got 0',
        'evals/s.yaml:5:31: cases[0].assert[0].type: unknown assertion type "regexp"; did you mean "regex"?',
      ].join('\n'),
    );
  });
});

describe('parseCasesJsonl', () => {
  it('reads one case per line and skips blank lines', () => {
    expect(parseCasesJsonl('{"id":"a","input":1}\n\n{"id":"b","expected":2}\n', 'c.jsonl')).toEqual([
      { id: 'a', input: 1, assert: [] },
      { id: 'b', expected: 2, assert: [] },
    ]);
  });

  it('locates bad lines at file:line:column', () => {
    const message = problemsOf(() =>
      parseCasesJsonl('{"id":"a"}\n{"id": "b", oops}\n{"id":"c","asert":[]}\n{"id":"d","assert":[{"type":"equal"}]}\n{"id":"a","id":"e"}\n', 'evals/c.jsonl'),
    );
    expect(message.split('\n').slice(1)).toEqual([
      expect.stringMatching(/^evals\/c\.jsonl:2:13: not valid JSON: /),
      'evals/c.jsonl:3:11: unknown key "asert"; did you mean "assert"?',
      'evals/c.jsonl:4:11: assert[0].type: unknown assertion type "equal"; did you mean "equals"?',
      'evals/c.jsonl:5:1: not valid JSON: (root): the key "id" appears twice',
    ]);
  });
});

describe('loadSuite', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    work = await tempDir();
    await mkdir(path.join(work.dir, 'evals'));
  });
  afterAll(() => work.cleanup());

  it('adds the cases of its JSONL file (relative to the suite) and digests both files', async () => {
    await writeFile(path.join(work.dir, 'evals/qa.yaml'), 'name: qa\ntarget: { command: [x] }\ncases: [{ id: a }]\ncases_file: qa.jsonl\n');
    await writeFile(path.join(work.dir, 'evals/qa.jsonl'), '{"id":"b"}\n');
    const first = await loadSuite(work.dir, 'evals/qa.yaml');
    expect(first.suite.cases.map((entry) => entry.id)).toEqual(['a', 'b']);
    await writeFile(path.join(work.dir, 'evals/qa.jsonl'), '{"id":"b","input":1}\n');
    const second = await loadSuite(work.dir, 'evals/qa.yaml');
    expect(second.digest).not.toBe(first.digest);
  });

  it('refuses a case id given in both files, and a cases file that links out of the repository', async () => {
    await writeFile(path.join(work.dir, 'evals/dup.yaml'), 'name: dup\ntarget: { command: [x] }\ncases: [{ id: a }]\ncases_file: dup.jsonl\n');
    await writeFile(path.join(work.dir, 'evals/dup.jsonl'), '{"id":"a"}\n');
    await expect(loadSuite(work.dir, 'evals/dup.yaml')).rejects.toThrow('evals/dup.jsonl:1:1: case id "a" appears twice (in evals/dup.yaml or this file)');
    await writeFile(path.join(work.dir, 'evals/out.yaml'), 'name: out\ntarget: { command: [x] }\ncases_file: out.jsonl\n');
    await symlink('/etc/passwd', path.join(work.dir, 'evals/out.jsonl'));
    await expect(loadSuite(work.dir, 'evals/out.yaml')).rejects.toThrow(/evals\/out\.jsonl:1:1: cannot be read: Refused to read/);
  });
});
