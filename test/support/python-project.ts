import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The policy the fixture repository's base commit carries. */
export const BASE_POLICY = `version: 1
mode: strict
sandbox: { mode: subprocess, timeout_seconds: 120 }
tools: { allowlist: [run_pytest] }
plan:
  - id: unit
    when: { changed: ["**/*.py"] }
    run: run_pytest
    with: { paths: [tests] }
approval:
  required_when: { changed: ["infra/**"] }
  count: 1
gate:
  - { id: tests-pass, metric: pytest.failed, op: "==", value: 0 }
`;

const BASE_FILES: Record<string, string> = {
  '.github/qualityfoundry.yml': BASE_POLICY,
  'calc/__init__.py': 'def add(a, b):\n    return a + b\n',
  'tests/__init__.py': '',
  'tests/test_calc.py': 'from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_add_negative():\n    assert add(-1, -2) == -3\n',
  'pytest.ini': '[pytest]\ntestpaths = tests\n',
};

export interface FixtureRepo {
  dir: string;
  baseSha: string;
  headSha: string;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Codertocat', '-c', 'user.email=codertocat@example.com', '-c', 'commit.gpgsign=false', ...args], {
    cwd: dir,
    encoding: 'utf8',
  }).trim();
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** Every repository createFixtureRepo made in this test file, for removeFixtureRepos. */
const created: string[] = [];

/** Removes every fixture repository made so far (the Action harness's close() calls it). */
export async function removeFixtureRepos(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/**
 * A temp git repository holding a tiny Python project with real pytest tests: a base commit, then a
 * head commit with `changes` on a branch "changes" (checked out, as actions/checkout would leave it).
 */
export async function createFixtureRepo(changes: Record<string, string>): Promise<FixtureRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'qf-action-repo-'));
  created.push(dir);
  git(dir, 'init', '-q', '-b', 'master');
  await writeFiles(dir, BASE_FILES);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  const baseSha = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', '-b', 'changes');
  await writeFiles(dir, changes);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'changes');
  return { dir, baseSha, headSha: git(dir, 'rev-parse', 'HEAD') };
}

/** Changes that keep every test green. */
export const PASSING_CHANGE = {
  'calc/__init__.py': 'def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n',
  'tests/test_mul.py': 'from calc import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n',
};

/** 120 failing tests, each with its own message. */
export const FAILING_CHANGE = {
  'tests/test_many.py': 'import pytest\n\n\n@pytest.mark.parametrize("n", range(120))\ndef test_many(n):\n    assert n < 0, f"case {n} is not negative"\n',
};
