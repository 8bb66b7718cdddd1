import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalRequirement, buildPlan } from '../../src/planner/build-plan.js';
import { changedFilesFromGit } from '../../src/planner/changed-files.js';
import { matchChange } from '../../src/planner/match-change.js';
import { parsePolicy } from '../../src/policy/load-policy.js';
import { runGit, tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const POLICY = `version: 1
tools: { allowlist: [run_pytest, run_command], commands: { lint: [ruff, check, .] } }
plan:
  - { id: unit, when: { changed: ["**/*.py"] }, run: run_pytest, with: { paths: [tests] }, fail_fast: true }
  - { when: { changed: ["docs/**"], labels: [docs] }, run: run_command, with: { command: lint } }
  - { id: nightly, when: { always: false }, run: run_pytest }
approval:
  required_when: { changed: ["migrations/**"] }
  count: 2
`;
const loaded = parsePolicy(POLICY, { path: 'p.yml', sourceRef: null });
const change = (changedFiles: string[], labels: string[] = []) => ({ base: null, head: null, changedFiles, labels });

describe('matchChange', () => {
  it.each<[string, Parameters<typeof matchChange>[0], string[], string[], string[] | undefined]>([
    ['no condition', undefined, ['a.py'], [], undefined],
    ['an empty condition', {}, ['a.py'], [], undefined],
    ['always', { always: true }, [], [], ['always']],
    ['always: false', { always: false }, ['a.py'], [], undefined],
    ['a glob hit', { changed: ['src/**/*.py'] }, ['README.md', 'src/app/x.py'], [], ['changed: src/app/x.py matches src/**/*.py']],
    ['dotfiles match', { changed: ['**/*.yml'] }, ['.github/workflows/ci.yml'], [], ['changed: .github/workflows/ci.yml matches **/*.yml']],
    ['a glob miss', { changed: ['src/**'] }, ['docs/a.md'], [], undefined],
    ['glob and label both needed', { changed: ['docs/**'], labels: ['docs'] }, ['docs/a.md'], [], undefined],
    ['glob and label', { changed: ['docs/**'], labels: ['docs', 'x'] }, ['docs/a.md'], ['x'], ['changed: docs/a.md matches docs/**', 'label: x']],
  ])('%s', (_name, condition, files, labels, expected) => {
    expect(matchChange(condition, { changedFiles: files, labels })).toEqual(expected);
  });
});

describe('buildPlan', () => {
  it('gives run_pytest steps sandbox.python unless the step names its own interpreter', () => {
    const withPython = parsePolicy(
      `version: 1
sandbox: { python: .venv/bin/python }
plan:
  - { id: default, when: { always: true }, run: run_pytest }
  - { id: own, when: { always: true }, run: run_pytest, with: { python: /opt/py312/bin/python3 } }
`,
      { path: 'p.yml', sourceRef: null },
    );
    const plan = buildPlan(withPython, change([]));
    expect(plan.steps.map((step) => [step.id, step.input.python])).toEqual([
      ['default', '.venv/bin/python'],
      ['own', '/opt/py312/bin/python3'],
    ]);
    // Without it, python3 from the PATH.
    expect(buildPlan(loaded, change(['a.py'])).steps[0]!.input.python).toBe('python3');
  });

  it('keeps the matching rules in order, with their defaults applied and why they matched', () => {
    const plan = buildPlan(loaded, change(['src/a.py', 'docs/guide.md'], ['docs']));
    expect(plan.steps).toEqual([
      {
        id: 'unit',
        tool: 'run_pytest',
        input: { paths: ['tests'], args: [], python: 'python3' },
        matched: ['changed: src/a.py matches **/*.py'],
        failFast: true,
      },
      {
        id: 'run_command-2',
        tool: 'run_command',
        input: { command: 'lint' },
        matched: ['changed: docs/guide.md matches docs/**', 'label: docs'],
        failFast: false,
      },
    ]);
    expect(plan.planHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same hash for the same steps, whatever else changed', () => {
    expect(buildPlan(loaded, change(['src/a.py'])).planHash).toBe(buildPlan(loaded, change(['src/b.py', 'README.md'], ['other'])).planHash);
  });

  it('gives another hash when the steps or the policy differ', () => {
    const one = buildPlan(loaded, change(['src/a.py'])).planHash;
    expect(buildPlan(loaded, change(['src/a.py', 'docs/x.md'], ['docs'])).planHash).not.toBe(one);
    const edited = parsePolicy(POLICY.replace('count: 2', 'count: 3'), { path: 'p.yml', sourceRef: null });
    expect(buildPlan(edited, change(['src/a.py'])).planHash).not.toBe(one);
  });

  it('says when an approval is needed and how many', () => {
    expect(approvalRequirement(loaded, change(['src/a.py']))).toEqual({ required: false, needed: 0 });
    expect(approvalRequirement(loaded, change(['migrations/0002.sql']))).toEqual({
      required: true,
      reason: 'changed: migrations/0002.sql matches migrations/**',
      needed: 2,
    });
  });
});

describe('changedFilesFromGit', () => {
  let repo: TempGitRepo;
  beforeAll(async () => {
    repo = await tempGitRepo('passing');
    await runGit(repo.dir, ['checkout', '-qb', 'feature']);
    await writeFile(path.join(repo.dir, 'pricing.py'), '# changed\n', { flag: 'a' });
    await writeFile(path.join(repo.dir, 'new file.py'), 'x = 1\n');
    await runGit(repo.dir, ['add', '-A']);
    await runGit(repo.dir, ['commit', '-qm', 'feature']);
  });
  afterAll(async () => {
    await repo.cleanup();
  });

  it('lists every file without a base', async () => {
    expect(await changedFilesFromGit(repo.dir, null, null)).toEqual([
      '.github/qualityfoundry.yml',
      'new file.py',
      'pricing.py',
      'pytest.ini',
      'tests/test_pricing.py',
    ]);
  });

  it('diffs base...head', async () => {
    expect(await changedFilesFromGit(repo.dir, 'main', 'feature')).toEqual(['new file.py', 'pricing.py']);
  });

  it('adds the work tree (edited and untracked files) when no head is given', async () => {
    await writeFile(path.join(repo.dir, 'tests/test_pricing.py'), '\n', { flag: 'a' });
    await writeFile(path.join(repo.dir, 'untracked.py'), '');
    expect(await changedFilesFromGit(repo.dir, 'main', null)).toEqual(['new file.py', 'pricing.py', 'tests/test_pricing.py', 'untracked.py']);
  });

  it('names an unknown ref, a missing folder and a non-git folder', async () => {
    await expect(changedFilesFromGit(repo.dir, 'no-such-ref', 'feature')).rejects.toThrow(
      /^git diff --name-only --relative -z no-such-ref\.\.\.feature failed in .+: fatal: /,
    );
    const { dir, cleanup } = await tempDir();
    try {
      await expect(changedFilesFromGit(path.join(dir, 'gone'), null, null)).rejects.toThrow(
        `Repository folder ${path.join(dir, 'gone')} does not exist; expected the path of a git checkout (--repo DIR).`,
      );
      await expect(changedFilesFromGit(dir, null, null)).rejects.toThrow(
        `${dir} is not a git repository; expected a git checkout (run \`git init\` or point --repo at one).`,
      );
    } finally {
      await cleanup();
    }
  });
});
