import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { PsmpEngine } from '../../src/governance/index.js';
import { openStore } from '../../src/store/index.js';
import { tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

let repo: TempGitRepo;
let work: { dir: string; cleanup: () => Promise<void> };
const PROJECT = 'local/repo';

function io() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: (text: string) => void (out.stdout += text),
      stderr: (text: string) => void (out.stderr += text),
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      cwd: work.dir,
    },
  };
}

async function qfRun(db: string, outName: string, extra: string[] = []): Promise<{ exitCode: number; evidence: Evidence }> {
  const { io: cli } = io();
  const out = path.join(work.dir, outName);
  const exitCode = await main(['run', '--repo', repo.dir, '--out', out, '--db', db, ...extra], cli);
  return { exitCode, evidence: JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8')) };
}

beforeAll(async () => {
  repo = await tempGitRepo('passing');
  work = await tempDir('qf-run-db-');
});
afterAll(async () => {
  await repo.cleanup();
  await work.cleanup();
});

describe('qf run --db', () => {
  it('records each run as a new PSMP iteration: re-runs are new versions, not conflicts', async () => {
    const db = path.join(work.dir, 'reruns.db');
    const first = await qfRun(db, 'out-1');
    const second = await qfRun(db, 'out-2');
    expect([first.exitCode, second.exitCode]).toEqual([0, 0]);
    expect(second.evidence.governance.conflicts).toEqual([]);

    const store = await openStore({ dbPath: db });
    try {
      const artifacts = await store.listArtifacts(PROJECT);
      expect(artifacts.map((artifact) => [artifact.type, artifact.producer, artifact.iteration, artifact.version])).toEqual([
        ['step:unit', 'run_pytest', 1, 1],
        ['step:unit', 'run_pytest', 2, 2],
      ]);
      const runs = await store.listRuns(PROJECT);
      expect(runs.map((run) => [run.id, run.verdict])).toEqual([
        [first.evidence.runId, 'pass'],
        [second.evidence.runId, 'pass'],
      ]);
    } finally {
      await store.close();
    }

    // The durable chain mirrors evidence.json's, and a checkpoint follows every run.
    const verify = io();
    expect(await main(['audit', 'verify', '--db', db], verify.io)).toBe(0);
    expect(verify.out.stdout).toContain(`run:${second.evidence.runId} (${second.evidence.audit.length} events)`);
    const checkpoints = io();
    expect(await main(['checkpoint', 'list', '--repo', PROJECT, '--db', db], checkpoints.io)).toBe(0);
    expect(checkpoints.out.stdout.trim().split('\n')).toHaveLength(2);
    const report = io();
    expect(await main(['report', '--repo', PROJECT, '--since', '2000-01-01', '--format', 'csv', '--db', db], report.io)).toBe(0);
    expect(report.out.stdout.match(/gate/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it('blocks a strict run when another producer declared the same result in the same iteration, and only reports it in playground mode', async () => {
    for (const [mode, expectedExit, expectedVerdict] of [
      ['strict', 1, 'blocked'],
      ['playground', 0, 'pass'],
    ] as const) {
      const db = path.join(work.dir, `conflict-${mode}.db`);
      const policy = path.join(work.dir, `policy-${mode}.yml`);
      await writeFile(policy, (await readFile(path.join(repo.dir, '.github/qualityfoundry.yml'), 'utf8')).replace('version: 1', `version: 1\nmode: ${mode}`));
      // A shard of the same (first) run already reported the unit step's result, with other content.
      const store = await openStore({ dbPath: db });
      const engine = new PsmpEngine(store, { mode });
      await engine.declare({ projectId: PROJECT, type: 'step:unit', producer: 'shard-2', iteration: 1, digest: 'e'.repeat(64) });
      await store.close();

      const { exitCode, evidence } = await qfRun(db, `out-${mode}`, ['--policy', policy]);
      expect(exitCode).toBe(expectedExit);
      expect(evidence.gate.verdict).toBe(expectedVerdict);
      expect(evidence.governance.conflicts).toHaveLength(1);
      expect(evidence.governance.conflicts[0]).toMatchObject({ kind: 'duplicate_producer', projectId: PROJECT });
      expect(evidence.metrics['governance.conflicts']).toBe(1);
      if (mode === 'strict') expect(evidence.gate.reasons.some((reason) => reason.startsWith('Conflict blocks the run: duplicate_producer'))).toBe(true);
      else expect(evidence.gate.reasons[0]).toBe('Playground mode: the verdict would have been blocked; reported, not enforced.');
    }
  });
});
