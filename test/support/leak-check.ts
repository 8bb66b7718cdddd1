import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { afterAll, expect } from 'vitest';
import { leakedProcesses } from './leaked-processes.js';

// vitest setupFiles: runs before each test file, in its worker. The file's temporary files go to a
// folder of its own (os.tmpdir() reads TMPDIR on every call); after its last test, anything left
// there, and any process it left running, fails the file.

const root = process.env.QF_TEST_TMP_ROOT;
if (!root) throw new Error('QF_TEST_TMP_ROOT is not set: run the tests through vitest.config.ts (its globalSetup makes the folder).');
const folder = mkdtempSync(path.join(root, `${path.basename(expect.getState().testPath ?? 'file')}-`));
chmodSync(folder, 0o1777);
process.env.TMPDIR = folder;

/** How long an ending process may take to disappear once its test is over. */
const SETTLE_TRIES = 20;

afterAll(async () => {
  let processes = leakedProcesses(process.pid, folder);
  for (let tries = 0; processes.length > 0 && tries < SETTLE_TRIES; tries++) {
    await setTimeout(100);
    processes = leakedProcesses(process.pid, folder);
  }
  // tsx keeps its compile cache in TMPDIR/tsx-UID for the tests that start tsx children: a cache, not a leak.
  const files = readdirSync(folder).filter((file) => !/^tsx-\d+$/.test(file));
  for (const { pid } of processes) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(folder, { recursive: true, force: true });
  const problems = [
    ...files.map((file) => `temporary folder or file left behind: ${path.join(folder, file)}`),
    ...processes.map((leak) => `process left running: pid ${leak.pid} (${leak.why}): ${leak.command}`),
  ];
  if (problems.length > 0) throw new Error(`This test file leaked (cleaned up now):\n  ${problems.join('\n  ')}`);
});
