import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQfError } from '../../src/errors.js';
import { checkPolicyText, loadPolicyFile, parsePolicy } from '../../src/policy/load-policy.js';
import { PolicyError } from '../../src/policy/policy-error.js';
import { sha256Hex } from '../../src/util/canonical-json.js';
import { PROJECTS_DIR, tempDir } from '../support/temp-git-repo.js';

const SOURCE = { path: '.github/qualityfoundry.yml', sourceRef: null };

/** Every problem of a policy text, as `line:column path: message` (the file is always SOURCE.path). */
function problemsOf(text: string): string[] {
  const result = checkPolicyText(text, SOURCE);
  if (result.ok) return [];
  for (const problem of result.problems) expect(problem.file).toBe(SOURCE.path);
  return result.problems.map((problem) => `${problem.line}:${problem.column} ${problem.path}: ${problem.message}`);
}

const ONE_OF_OPS = 'expected one of "=="|"!="|"<"|"<="|">"|">="';

describe('policy errors: exact message and position', () => {
  it.each<[string, string, string[]]>([
    // ---- not YAML, or not a mapping
    [
      'an unterminated flow sequence (at its bracket, not where the parser gave up)',
      'version: 1\nplan:\n  - id: unit\n    run: [run_pytest\n',
      [
        '4:10 : not valid YAML: this [ is never closed with ] (Flow sequence in block collection must be sufficiently indented and end with a ]; the parser gave up at 5:1)',
      ],
    ],
    [
      'an unclosed { on line 3',
      'version: 1\nmode: strict\nsandbox: { mode: subprocess\nplan: []\ngate: []\n',
      [
        '3:10 : not valid YAML: this { is never closed with } (Flow map in block collection must be sufficiently indented and end with a }; the parser gave up at 4:1)',
      ],
    ],
    [
      'a mis-indented key',
      'version: 1\nsandbox:\n  timeout_seconds: 5\n mode: subprocess\n',
      ['4:1 : not valid YAML: All mapping items must start at the same column'],
    ],
    ['a duplicate key', 'version: 1\nmode: strict\nmode: playground\n', ['3:1 : not valid YAML: Map keys must be unique']],
    ['an empty file', '', ['1:1 : expected a mapping with at least `version: 1`, found an empty document']],
    ['a bare string', 'just text\n', ['1:1 : expected a mapping with at least `version: 1`, found a string']],
    // ---- wrong types and values
    ['no version', 'mode: strict\n', ['1:1 version: expected 1']],
    ['version 2', 'version: 2\n', ['1:10 version: expected 1, got 2']],
    [
      'wrong types in several sections',
      'version: 1\nsandbox:\n  timeout_seconds: "ten"\n  max_output_bytes: 12\nbudget:\n  max_retries: 1.5\ntools:\n  allowlist: run_pytest\n',
      [
        '3:20 sandbox.timeout_seconds: expected number, got "ten"',
        '4:21 sandbox.max_output_bytes: Too small: expected number to be >=1024, got 12',
        '6:16 budget.max_retries: expected int, got 1.5',
        '8:14 tools.allowlist: expected array, got "run_pytest"',
      ],
    ],
    ['a misspelt mode', 'version: 1\nmode: strickt\n', ['2:7 mode: expected one of "strict"|"adaptive"|"playground", got "strickt"; did you mean "strict"?']],
    [
      'an unknown operator',
      'version: 1\ngate:\n  - { id: a, metric: pytest.failed, op: "=", value: 0 }\n',
      [`3:41 gate[0].op: ${ONE_OF_OPS}, got "="; did you mean "=="?`],
    ],
    ['a rule without op', 'version: 1\ngate:\n  - { id: a, metric: pytest.failed, value: 0 }\n', [`3:5 gate[0].op: ${ONE_OF_OPS}`]],
    [
      'an id with spaces',
      'version: 1\ngate:\n  - { id: "No Spaces", metric: pytest.failed, op: "==", value: 0 }\n',
      ['3:11 gate[0].id: a lower-case id, got "No Spaces"'],
    ],
    // ---- unknown keys, with did-you-mean
    ['an unknown top-level key', 'version: 1\nsandbx: { timeout_seconds: 5 }\n', ['2:1 sandbx: unknown key "sandbx"; did you mean "sandbox"?']],
    [
      'unknown nested keys',
      'version: 1\nsandbox:\n  timeout_secs: 5\nplan:\n  - when: { changd: ["**/*.py"] }\n    run: run_pytest\n',
      [
        '3:3 sandbox.timeout_secs: unknown key "timeout_secs"; did you mean "timeout_seconds"?',
        '5:13 plan[0].when.changd: unknown key "changd"; did you mean "changed"?',
      ],
    ],
    [
      'an unknown key far from any',
      'version: 1\nbudget:\n  zzzzzzzz: 1\n',
      ['3:3 budget.zzzzzzzz: unknown key "zzzzzzzz"; expected one of: total_seconds, max_retries, llm_tokens'],
    ],
    // ---- semantic checks
    [
      'unknown tools',
      'version: 1\ntools:\n  allowlist: [run_pytest, run_pytests]\nplan:\n  - when: { always: true }\n    run: run_selenium\n',
      [
        '3:27 tools.allowlist[1]: unknown tool "run_pytests"; did you mean "run_pytest"?',
        '6:10 plan[0].run: unknown tool "run_selenium"; expected one of: run_pytest, run_command, run_evals',
      ],
    ],
    [
      'unknown metrics',
      'version: 1\ngate:\n  - { id: a, metric: pytest.fails, op: "==", value: 0 }\n  - { id: b, metric: coverage.percent, op: ">=", value: 80 }\n',
      [
        '3:22 gate[0].metric: unknown metric "pytest.fails"; did you mean "pytest.failed"?',
        '4:22 gate[1].metric: unknown metric "coverage.percent"; run `qf metrics` for the list',
      ],
    ],
    [
      'invalid globs',
      'version: 1\nplan:\n  - when: { changed: ["src/[abc.py", "../outside/**"] }\n    run: run_pytest\n',
      [
        '3:23 plan[0].when.changed[0]: invalid glob "src/[abc.py": Missing closing: "]" - use "\\\\]" to match literal characters',
        '3:38 plan[0].when.changed[1]: invalid glob "../outside/**": globs are repository-relative; no leading / or ..',
      ],
    ],
    [
      'an absolute glob in approval',
      'version: 1\napproval:\n  required_when: { changed: ["/etc/**"] }\n',
      ['3:30 approval.required_when.changed[0]: invalid glob "/etc/**": globs are repository-relative; no leading / or ..'],
    ],
    [
      'duplicate step and rule ids',
      'version: 1\nplan:\n  - { id: unit, when: { always: true }, run: run_pytest }\n  - { id: unit, when: { always: true }, run: run_pytest }\ngate:\n  - { id: g, metric: pytest.failed, op: "==", value: 0 }\n  - { id: g, metric: pytest.errors, op: "==", value: 0 }\n',
      ['4:11 plan[1].id: duplicate step id "unit"', '7:11 gate[1].id: duplicate gate rule id "g"'],
    ],
    [
      'a dependency on an unknown step, and on itself',
      'version: 1\nplan:\n  - { id: unit, when: { always: true }, run: run_pytest }\n  - { id: integration, when: { always: true }, run: run_pytest, depends_on: [unti, integration] }\n',
      ['4:78 plan[1].depends_on[0]: unknown step "unti"; did you mean "unit"?', '4:84 plan[1].depends_on[1]: step "integration" cannot depend on itself'],
    ],
    [
      'run_command with an undefined command',
      'version: 1\ntools:\n  allowlist: [run_command]\n  commands: { lint: [ruff, check, .] }\nplan:\n  - when: { always: true }\n    run: run_command\n    with: { command: typecheck }\n',
      ['8:22 plan[0].with.command: command "typecheck" is not defined under tools.commands (defined: lint)'],
    ],
    [
      'run_command with no commands at all',
      'version: 1\nplan:\n  - when: { always: true }\n    run: run_command\n    with: { command: lint }\n',
      ['5:22 plan[0].with.command: command "lint" is not defined under tools.commands'],
    ],
    [
      "a tool input that does not fit the tool's contract",
      'version: 1\nplan:\n  - when: { always: true }\n    run: run_pytest\n    with: { path: [tests], args: "-x" }\n',
      ['5:13 plan[0].with.path: unknown key "path" for run_pytest; did you mean "paths"?', '5:34 plan[0].with.args: expected array, received string'],
    ],
    // ---- one pass: schema problems and semantic problems of the parts that pass the schema, together
    [
      'schema and semantic problems in one report',
      'version: 1\nmode: strickt\ntools:\n  allowlist: [run_pytest]\nplan:\n  - when: { always: true }\n    run: run_pytest\n    with: { path: [tests] }\n  - when: { always: yes please }\n    run: run_pytest\ngate:\n  - { id: a, metric: pytest.fails, op: "==", value: 0 }\n  - { id: b, metric: pytest.failed, op: "=", value: 0 }\n',
      [
        '2:7 mode: expected one of "strict"|"adaptive"|"playground", got "strickt"; did you mean "strict"?',
        '8:13 plan[0].with.path: unknown key "path" for run_pytest; did you mean "paths"?',
        '9:21 plan[1].when.always: expected boolean, got "yes please"',
        '12:22 gate[0].metric: unknown metric "pytest.fails"; did you mean "pytest.failed"?',
        `13:41 gate[1].op: ${ONE_OF_OPS}, got "="; did you mean "=="?`,
      ],
    ],
    [
      'container mode without an image',
      'version: 1\nsandbox: { mode: container }\n',
      ['2:18 sandbox.mode: sandbox.mode is "container" but sandbox.container (with an image) is missing'],
    ],
  ])('%s', (_name, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  it('formats the thrown PolicyError as one line per problem, with file:line:col', () => {
    const text = 'version: 1\nmode: strickt\nsandbx: {}\n';
    const error = (() => {
      try {
        parsePolicy(text, { path: 'policies/team.yml', sourceRef: 'abc123' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PolicyError);
    expect(isQfError(error, 'POLICY_INVALID')).toBe(true);
    expect((error as PolicyError).message).toBe(
      'Policy policies/team.yml has 2 problems:\npolicies/team.yml:2:7: mode: expected one of "strict"|"adaptive"|"playground", got "strickt"; did you mean "strict"?\npolicies/team.yml:3:1: sandbx: unknown key "sandbx"; did you mean "sandbox"?',
    );
  });
});

describe('a valid policy', () => {
  it('gets every default and the sha256 of its text', () => {
    const text = 'version: 1\n';
    const loaded = parsePolicy(text, { path: 'p.yml', sourceRef: 'deadbeef' });
    expect(loaded).toEqual({
      path: 'p.yml',
      sourceRef: 'deadbeef',
      sha256: sha256Hex(text),
      policy: {
        version: 1,
        mode: 'strict',
        sandbox: {
          mode: 'subprocess',
          timeout_seconds: 600,
          env_allowlist: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'PYTHONPATH', 'VIRTUAL_ENV'],
          max_output_bytes: 1_048_576,
          fallback: 'none',
        },
        budget: { total_seconds: 900, max_retries: 0, llm_tokens: 0 },
        tools: { allowlist: ['run_pytest'], commands: {} },
        plan: [],
        approval: { count: 1, approvers: { min_permission: 'maintain', teams: [], users: [] }, allow_author: false },
        gate: [],
        require_steps: false,
        gateway: { routing: 'default', classify: [], providers: [] },
      },
    });
  });

  it('keeps plan rules and gate rules as written, with their defaults', () => {
    const { policy } = parsePolicy(
      'version: 1\nplan:\n  - { when: { changed: ["**/*.py"] }, run: run_pytest, with: { paths: [tests] } }\ngate:\n  - { id: a, metric: command.lint.exit_code, op: "==", value: 0 }\n',
      SOURCE,
    );
    expect(policy.plan).toEqual([{ when: { changed: ['**/*.py'] }, run: 'run_pytest', with: { paths: ['tests'] }, fail_fast: false }]);
    expect(policy.gate).toEqual([{ id: 'a', metric: 'command.lint.exit_code', op: '==', value: 0, if_missing: 'skip' }]);
  });

  it('checkPolicyText returns the policy instead of throwing', () => {
    const result = checkPolicyText('version: 1\nmode: playground\n', SOURCE);
    expect(result.ok && result.policy.policy.mode).toBe('playground');
  });
});

describe('loadPolicyFile', () => {
  it('loads every fixture project policy but the broken one', async () => {
    for (const name of ['passing', 'failing', 'erroring', 'collection-error', 'timeout', 'huge-output', 'secrets', 'approval', 'no-pytest']) {
      const loaded = await loadPolicyFile(path.join(PROJECTS_DIR, name, '.github/qualityfoundry.yml'));
      expect(loaded.policy.version).toBe(1);
      expect(loaded.sourceRef).toBeNull();
    }
  });

  it('names a missing file with what was expected', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'missing.yml');
      await expect(loadPolicyFile(file)).rejects.toThrow(`Cannot read policy file ${file}: no such file. Expected a YAML policy (see policies/default.yaml).`);
      const real = path.join(dir, 'real.yml');
      await writeFile(real, 'version: 1\nmode: adaptive\n');
      expect((await loadPolicyFile(real, 'main')).policy.mode).toBe('adaptive');
    } finally {
      await cleanup();
    }
  });
});
