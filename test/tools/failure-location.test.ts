import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJUnitReport, repositoryPath } from '../../src/tools/junit-report.js';
import { PROJECTS_DIR, tempDir } from '../support/temp-git-repo.js';

// test/fixtures/projects/locations calls into test/fixtures/site-packages/extlib, a package outside
// the project as a virtualenv's site-packages is: real pytest prints its frames as ../../site-packages/….
const SITE_PACKAGES = fileURLToPath(new URL('../fixtures/site-packages/', import.meta.url));

let work: { dir: string; cleanup: () => Promise<void> };
let report: string;

beforeAll(async () => {
  work = await tempDir('qf-locations-');
  report = path.join(work.dir, 'junit.xml');
  const run = await execa(
    'python3',
    ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'extlib.plugin', `--junitxml=${report}`, '-o', 'junit_family=xunit1'],
    {
      cwd: path.join(PROJECTS_DIR, 'locations'),
      env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: SITE_PACKAGES },
      extendEnv: true,
      reject: false,
      stdin: 'ignore',
    },
  );
  expect(run.stdout).toMatch(/3 failed, 1 error/);
});
afterAll(async () => {
  await work.cleanup();
});

describe('failure locations', () => {
  it('are the innermost frame inside the repository, else the test itself; never a path outside it', async () => {
    const { notable } = await parseJUnitReport(report);
    expect(notable.map((test) => [test.id.split('::')[1], `${test.file}:${test.line}`])).toEqual([
      // The exception is raised in ../../site-packages/extlib: the test's own line called it.
      ['test_library_raises', 'tests/test_locations.py:7'],
      // Raised in the library, called from the repository's own app/ code.
      ['test_through_own_code', 'app/__init__.py:5'],
      // The library calls back into the repository, which fails there.
      ['test_library_calls_back_into_the_repository', 'app/__init__.py:9'],
      // A plugin's fixture fails in setup: no frame inside the repository, so the test's definition.
      ['test_fixture_from_a_plugin_fails', 'tests/test_locations.py:18'],
    ]);
    // The full traceback still names the library's frames.
    expect(notable[0]!.details).toContain('site-packages/extlib/__init__.py:6: ValueError');
  });
});

describe('repositoryPath', () => {
  it.each([
    ['tests/test_x.py', 'tests/test_x.py'],
    ['./app/../app/x.py', 'app/x.py'],
    ['../../venv/lib/python3.11/site-packages/attr/__init__.py', undefined],
    ['/usr/lib/python3/dist-packages/yaml/__init__.py', undefined],
    ['.venv/lib/python3.12/site-packages/requests/api.py', undefined],
    ['..', undefined],
  ])('%s → %s', (file, expected) => {
    expect(repositoryPath(file)).toBe(expected);
  });
});
