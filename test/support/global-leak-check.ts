import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * vitest globalSetup: every test file gets its own temporary folder under one root made here
 * (test/support/leak-check.ts), so a leak is found no matter how many other runs share /tmp. At the
 * end, anything still under the root (a file whose own check could not run) fails the run.
 */
export function setup(): () => void {
  const root = mkdtempSync(path.join(tmpdir(), 'qf-test-run-'));
  // Like /tmp: the PostgreSQL tests run initdb as an unprivileged user, containers run as nobody.
  chmodSync(root, 0o1777);
  process.env.QF_TEST_TMP_ROOT = root;
  return () => {
    const left = readdirSync(root).flatMap((file) =>
      readdirSync(path.join(root, file))
        .filter((entry) => !/^tsx-\d+$/.test(entry))
        .map((entry) => `${file}/${entry}`),
    );
    rmSync(root, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`Tests left temporary files behind (now removed):\n  ${left.join('\n  ')}`);
  };
}
