import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { hashAuditEvent } from '../../src/audit/audit-chain.js';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { stateDigest } from '../../src/orchestrator/check-resume.js';
import type { RunState } from '../../src/orchestrator/run-state.js';
import { tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

// Issue 14, item 9: run-state.json sits in the output folder, so whoever can write there (or a pull
// request that commits qf-out/run-state.json) could edit the saved plan or drop the approval
// requirement and have `--resume` run it. Each test edits the file as an attacker would, with and
// without re-sealing it (the digest and the audit chain are plain sha256, which anyone can redo).

const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

async function qf(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: BASE_ENV, cwd });
  return { code, stdout, stderr };
}

/** Redoes what binds the file to its run: the state digest in its last audit event, and that event's hash. */
function reseal(state: RunState): RunState {
  const last = state.audit.at(-1)!;
  last.data = { ...last.data, digest: stateDigest(state) };
  const { hash: _hash, ...unsealed } = last;
  last.hash = hashAuditEvent(unsealed);
  return state;
}

const repos: TempGitRepo[] = [];
afterAll(async () => {
  for (const repo of repos) await repo.cleanup();
});

let repo: TempGitRepo;
let out: string;
let statePath: string;
beforeEach(async () => {
  repo = await tempGitRepo('approval');
  repos.push(repo);
  out = path.join(path.dirname(repo.dir), 'out');
  statePath = path.join(out, 'run-state.json');
  const waiting = await qf(['run', '--repo', repo.dir, '--out', out], repo.dir);
  expect(waiting.code).toBe(ExitCode.waitingForHuman);
});

async function tamper(edit: (state: RunState) => void, options: { reseal: boolean }): Promise<void> {
  const state = JSON.parse(await readFile(statePath, 'utf8')) as RunState;
  edit(state);
  await writeFile(statePath, JSON.stringify(options.reseal ? reseal(state) : state));
}

/** Nothing ran: no step folder, and evidence.json is still the waiting run's. */
async function expectNothingRan(): Promise<void> {
  expect(await readdir(out)).not.toContain('reports');
  const evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
  expect(evidence.gate.verdict).toBe('needs_approval');
  expect(evidence.steps).toEqual([]);
}

describe('qf run --resume with an edited run-state.json', () => {
  it('refuses a saved plan whose paths were edited, even when the file is re-sealed', async () => {
    const edit = (state: RunState) => {
      state.plan!.steps[0]!.input.paths = ['migrations'];
    };
    await tamper(edit, { reseal: false });
    const unsealed = await qf(['run', '--repo', repo.dir, '--out', out, '--resume', '--approve'], repo.dir);
    expect(unsealed.code).toBe(ExitCode.badInput);
    expect(unsealed.stderr).toMatch(
      /^qf: Cannot resume run [0-9a-f-]{36}: run-state\.json was changed after it was saved \(its digest does not match the one in its audit chain\)\. Start a new run \(without --resume\)\.\n$/,
    );

    await tamper(() => undefined, { reseal: true });
    const resealed = await qf(['run', '--repo', repo.dir, '--out', out, '--resume', '--approve'], repo.dir);
    expect(resealed.code).toBe(ExitCode.badInput);
    expect(resealed.stderr).toMatch(
      /Cannot resume run [0-9a-f-]{36}: its saved plan differs from the plan the policy gives for this change \(plan [0-9a-f]{12}…\)/,
    );
    await expectNothingRan();
  });

  it('refuses a saved state that says no approval is required', async () => {
    await tamper(
      (state) => {
        state.approval.required = false;
        state.approval.needed = 0;
      },
      { reseal: true },
    );
    const run = await qf(['run', '--repo', repo.dir, '--out', out, '--resume'], repo.dir);
    expect(run.code).toBe(ExitCode.badInput);
    expect(run.stderr).toContain(
      "its saved approval requirement (required: false, needed: 0) differs from the policy's for this change (required: true, needed: 1)",
    );
    await expectNothingRan();
  });

  it('refuses a saved state moved past the approval, or given steps that never ran', async () => {
    await tamper(
      (state) => {
        state.node = 'execute';
        state.approval.status = 'approved';
      },
      { reseal: true },
    );
    const moved = await qf(['run', '--repo', repo.dir, '--out', out, '--resume'], repo.dir);
    expect(moved.code).toBe(ExitCode.badInput);
    expect(moved.stderr).toContain('only a run waiting for approval can be resumed, and this one is at "execute" (approval approved)');
    await expectNothingRan();
  });

  it('refuses a changed-file list edited to match a plan that needs no approval', async () => {
    await tamper(
      (state) => {
        state.change.changedFiles = state.change.changedFiles.filter((file) => !file.startsWith('migrations/'));
      },
      { reseal: true },
    );
    const run = await qf(['run', '--repo', repo.dir, '--out', out, '--resume', '--approve'], repo.dir);
    expect(run.code).toBe(ExitCode.badInput);
    expect(run.stderr).toContain('the change (base, head, changed files, labels) differs from the one the run was planned for');
    await expectNothingRan();
  });

  it('still resumes an untouched state, and the resumed evidence carries the digest of the state it resumed from', async () => {
    const saved = JSON.parse(await readFile(statePath, 'utf8')) as RunState;
    const run = await qf(['run', '--repo', repo.dir, '--out', out, '--resume', '--approve'], repo.dir);
    expect(run.code).toBe(ExitCode.pass);
    const evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) as Evidence;
    expect(evidence.audit.find((event) => event.action === 'run.resumed')?.data).toEqual({ stateDigest: stateDigest(saved) });
    expect((await qf(['verify', out], repo.dir)).code).toBe(0);
  });
});
