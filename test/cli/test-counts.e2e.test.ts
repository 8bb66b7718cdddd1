import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { metricTable } from '../../src/policy/metric-catalog.js';
import { REPO_ROOT, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

async function qf(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: ENV, cwd });
  return { code, stdout, stderr };
}

// test/fixtures/projects/subtests: 8 subtests (1 fails), a strict XPASS, and one test deselected with -k.
describe('counts people expect', () => {
  let repo: TempGitRepo;
  let run: { code: number; stdout: string; stderr: string };
  let evidence: Evidence;
  let summary: string;

  beforeAll(async () => {
    repo = await tempGitRepo('subtests');
    const out = path.join(repo.dir, '..', 'out');
    run = await qf(['run', '--repo', repo.dir, '--out', out], repo.dir);
    evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8'));
    summary = await readFile(path.join(out, 'summary.md'), 'utf8');
  });
  afterAll(async () => {
    await repo.cleanup();
  });

  it('reports subtests and deselected tests as metrics', () => {
    expect(run.code).toBe(1);
    expect(evidence.metrics).toMatchObject({
      'pytest.total': 4,
      'pytest.failed': 2, // the test holding the failed subtest, and the strict XPASS
      'pytest.passed': 2,
      'pytest.subtests_passed': 7,
      'pytest.subtests_failed': 1,
      'pytest.deselected': 1,
    });
    expect(evidence.gate.rules.find((rule) => rule.id === 'subtests-pass')).toMatchObject({ status: 'fail', observed: 1 });
  });

  it('shows them in the terminal and the summary', () => {
    const counts = '2 passed, 2 failed, 0 errors, 0 skipped, 1 deselected; subtests: 7 passed, 1 failed';
    expect(run.stdout.split('\n')[0]).toBe(`FAIL · ${counts}`);
    expect(summary).toContain(`- Tests: ${counts}`);
  });

  it('labels a strict XPASS as pytest does and says why it fails', () => {
    const why = 'marked xfail(strict=True) but passed, and a strict xfail fails when it passes (xfail reason: bug 12 is fixed now)';
    expect(run.stdout).toContain(`tests/test_counts.py:16: XPASS(strict) tests/test_counts.py::test_strict_xpass — ${why}`);
    expect(summary).toContain(`- **XPASS(strict)** \`tests/test_counts.py::test_strict_xpass\` \`tests/test_counts.py:16\` — ${why}`);
  });
});

describe('qf metrics', () => {
  it('prints each metric with its meaning, unit and formula', async () => {
    const result = await qf(['metrics'], REPO_ROOT);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '| `pytest.pass_rate` | share of the tests that ran which passed; 1 when none ran | ratio 0–1 | `(passed + xpassed) / (total − skipped − xfailed)` |',
    );
    expect(result.stdout).toContain('| `pytest.subtests_failed` |');
    expect(result.stdout).toContain('| `budget.seconds_used` | time the steps took, retries included | seconds | — |');
  });

  it('prints the table the README holds', async () => {
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(metricTable());
  });
});
