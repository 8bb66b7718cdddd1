import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-chain.js';
import { isQfError } from '../../src/errors.js';
import { PsmpEngine, type ArtifactDeclaration, type GovernanceMode } from '../../src/governance/index.js';
import { openStore, type StorageBackend } from '../../src/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'qf-psmp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const P = 'acme/widgets';
const open: StorageBackend[] = [];
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

let n = 0;
async function engine(mode: GovernanceMode) {
  const store = await openStore({ dbPath: join(dir, `psmp-${++n}.db`) });
  open.push(store);
  const trail = new AuditTrail(() => new Date('2025-01-01T00:00:00Z'));
  const psmp = new PsmpEngine(store, { mode, audit: (e) => trail.record(e), clock: () => new Date('2025-01-01T00:00:00Z') });
  const declare = (d: Partial<ArtifactDeclaration> & Pick<ArtifactDeclaration, 'type' | 'producer' | 'digest'>) =>
    psmp.declare({ projectId: P, runId: 'run-1', iteration: 1, ...d });
  return { psmp, trail, declare };
}

type Scenario = { kind: string; lowRisk: boolean; run: (declare: Awaited<ReturnType<typeof engine>>['declare']) => Promise<unknown> };
const scenarios: Record<string, Scenario> = {
  'two producers of one type in one iteration': {
    kind: 'duplicate_producer',
    lowRisk: false,
    run: async (declare) => {
      await declare({ type: 'pytest.report', producer: 'shard-1', digest: 'aaa' });
      await declare({ type: 'pytest.report', producer: 'shard-2', digest: 'bbb' });
    },
  },
  'a circular dependency': {
    kind: 'circular_dependency',
    lowRisk: false,
    run: async (declare) => {
      await declare({ type: 'coverage', producer: 'cov', digest: 'c', dependsOn: ['pytest.report'] });
      await declare({ type: 'pytest.report', producer: 'pytest', digest: 'p', dependsOn: ['coverage'] });
    },
  },
  'a missing dependency': {
    kind: 'missing_dependency',
    lowRisk: false,
    run: (declare) => declare({ type: 'gate.decision', producer: 'judge', digest: 'g', dependsOn: ['pytest.report'] }),
  },
  'a stale version from another producer of an older iteration': {
    kind: 'version_conflict',
    lowRisk: false,
    run: async (declare) => {
      await declare({ type: 'pytest.report', producer: 'a', iteration: 2, digest: 'x' });
      await declare({ type: 'pytest.report', producer: 'b', iteration: 1, version: 1, digest: 'y' });
    },
  },
  'a re-declaration by the same producer': {
    kind: 'version_conflict',
    lowRisk: true,
    run: async (declare) => {
      await declare({ type: 'pytest.report', producer: 'a', digest: 'x' });
      await declare({ type: 'pytest.report', producer: 'a', digest: 'y' });
    },
  },
  'a stale version from a newer iteration': {
    kind: 'version_conflict',
    lowRisk: true,
    run: async (declare) => {
      await declare({ type: 'pytest.report', producer: 'a', iteration: 1, digest: 'x' });
      await declare({ type: 'pytest.report', producer: 'b', iteration: 2, version: 1, digest: 'y' });
    },
  },
};

const expected: Record<GovernanceMode, (lowRisk: boolean) => { status: string; decision: string; blocked: boolean }> = {
  strict: () => ({ status: 'open', decision: 'blocked', blocked: true }),
  adaptive: (lowRisk) =>
    lowRisk ? { status: 'resolved', decision: 'proceed', blocked: false } : { status: 'escalated', decision: 'waiting_for_human', blocked: true },
  playground: () => ({ status: 'open', decision: 'proceed', blocked: false }),
};

describe('PSMP conflict kinds in each mode', () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    for (const mode of ['strict', 'adaptive', 'playground'] as const) {
      it(`${mode}: ${name} → ${scenario.kind}`, async () => {
        const { psmp, declare, trail } = await engine(mode);
        await scenario.run(declare);
        const conflicts = (await psmp.store.listConflicts(P)).filter((c) => c.kind === scenario.kind);
        expect(conflicts).toHaveLength(1);
        const want = expected[mode](scenario.lowRisk);
        expect(conflicts[0]).toMatchObject({ lowRisk: scenario.lowRisk, status: want.status });
        const report = await psmp.blockingReport(P);
        expect({ decision: report.decision, blocked: report.blocked }).toEqual({ decision: want.decision, blocked: want.blocked });
        expect(report.wouldBlock).toBe(want.status !== 'resolved');
        expect(trail.events.some((e) => e.subject === conflicts[0]?.id)).toBe(true);
      });
    }
  }

  it('reports the path of a cycle and closes the missing dependency the cycle supplied', async () => {
    const { psmp, declare } = await engine('strict');
    await declare({ type: 'a', producer: 'x', digest: '1', dependsOn: ['b'] });
    await declare({ type: 'b', producer: 'x', digest: '2', dependsOn: ['c'] });
    const last = await declare({ type: 'c', producer: 'x', digest: '3', dependsOn: ['a'] });
    expect(last.conflicts.map((c) => [c.kind, c.details.path])).toEqual([['circular_dependency', ['c', 'a', 'b', 'c']]]);
    expect(last.conflicts[0]?.message).toBe('circular dependency: c → a → b → c');
    expect(last.closed.map((c) => c.details.missing)).toEqual(['c']);
    const missing = await psmp.store.listConflicts(P);
    expect(missing.filter((c) => c.kind === 'missing_dependency').map((c) => c.status)).toEqual(['satisfied', 'satisfied']);
  });

  it('asks an unpinned dependency of the same iteration: another iteration does not satisfy it, a pinned version does', async () => {
    const { psmp, declare } = await engine('strict');
    await declare({ type: 'step:unit', producer: 'run-1', iteration: 1, digest: 'u' });
    const stale = await declare({ type: 'step:integration', producer: 'run-2', iteration: 2, digest: 'i', dependsOn: ['step:unit'] });
    expect(stale.conflicts.map((c) => [c.kind, c.details])).toEqual([['missing_dependency', { missing: 'step:unit', iteration: 2 }]]);
    const pinned = await declare({ type: 'step:report', producer: 'run-2', iteration: 2, digest: 'r', dependsOn: ['step:unit@1'] });
    expect(pinned.conflicts).toEqual([]);
    // The dependency arrives for iteration 1 again: still not iteration 2's.
    expect((await declare({ type: 'step:unit', producer: 'run-3', iteration: 1, digest: 'u' })).closed).toEqual([]);
    const arrived = await declare({ type: 'step:unit', producer: 'run-2', iteration: 2, digest: 'u2' });
    expect(arrived.closed.map((c) => [c.id, c.status])).toEqual([[stale.conflicts[0]!.id, 'satisfied']]);
    expect((await psmp.store.getConflict(stale.conflicts[0]!.id))?.status).toBe('satisfied');
  });

  it("records ADAPTIVE's own resolutions under the name it is given", async () => {
    const store = await openStore({ dbPath: join(dir, `psmp-${++n}.db`) });
    open.push(store);
    const psmp = new PsmpEngine(store, { mode: 'adaptive', autoResolver: 'qualityfoundry-bot' });
    const declare = (digest: string) => psmp.declare({ projectId: P, runId: 'run-1', iteration: 1, type: 'step:unit', producer: 'run-1', digest });
    await declare('a');
    const [redeclared] = (await declare('b')).conflicts;
    expect(redeclared).toMatchObject({
      kind: 'version_conflict',
      lowRisk: true,
      status: 'resolved',
      resolutions: [{ strategy: 'OVERRIDE', by: 'qualityfoundry-bot' }],
    });
  });

  it('treats the same content from the same producer as one artifact', async () => {
    const { declare } = await engine('strict');
    const first = await declare({ type: 'pytest.report', producer: 'a', digest: 'x' });
    const again = await declare({ type: 'pytest.report', producer: 'a', digest: 'x' });
    expect(again).toMatchObject({ unchanged: true, artifact: first.artifact });
    expect(first.artifact).toMatchObject({ id: `${P}:pytest.report@1`, version: 1 });
  });

  it('blocks artifacts built from a blocked one, naming the conflict', async () => {
    const { psmp, declare } = await engine('strict');
    await declare({ type: 'pytest.report', producer: 'shard-1', digest: 'aaa' });
    const dup = await declare({ type: 'pytest.report', producer: 'shard-2', digest: 'bbb' });
    await declare({ type: 'gate.decision', producer: 'judge', digest: 'g', dependsOn: ['pytest.report'] });
    const report = await psmp.blockingReport(P, 'run-1');
    const id = dup.conflicts[0]?.id;
    expect(report.blockedArtifacts).toEqual([
      { artifactId: `${P}:pytest.report@1`, type: 'pytest.report', producer: 'shard-1', version: 1, blockedBy: [id] },
      { artifactId: `${P}:pytest.report@2`, type: 'pytest.report', producer: 'shard-2', version: 2, blockedBy: [id] },
      { artifactId: `${P}:gate.decision@1`, type: 'gate.decision', producer: 'judge', version: 1, blockedBy: [id], viaDependency: 'pytest.report' },
    ]);
  });
});

describe('PSMP strategies in each mode', () => {
  const duplicate = async (mode: GovernanceMode) => {
    const setup = await engine(mode);
    await setup.declare({ type: 'pytest.report', producer: 'shard-1', digest: 'aaa' });
    const { conflicts } = await setup.declare({ type: 'pytest.report', producer: 'shard-2', digest: 'bbb' });
    return { ...setup, conflictId: conflicts[0]!.id };
  };
  const who = { by: 'alice', reason: 'shard-2 ran on the fixed runner' };
  const blockedWhileOpen: Record<GovernanceMode, string> = { strict: 'blocked', adaptive: 'blocked', playground: 'proceed' };
  const whileEscalated: Record<GovernanceMode, string> = { strict: 'blocked', adaptive: 'waiting_for_human', playground: 'proceed' };

  for (const mode of ['strict', 'adaptive', 'playground'] as const) {
    it(`${mode}: OVERRIDE picks a winner and unblocks`, async () => {
      const { psmp, conflictId, trail } = await duplicate(mode);
      const resolved = await psmp.resolve(P, conflictId, { strategy: 'OVERRIDE', winner: `${P}:pytest.report@1`, ...who });
      expect(resolved).toMatchObject({ status: 'resolved', resolvedAt: '2025-01-01T00:00:00.000Z' });
      expect(resolved.resolutions.at(-1)).toEqual({ strategy: 'OVERRIDE', winner: `${P}:pytest.report@1`, at: '2025-01-01T00:00:00.000Z', ...who });
      expect((await psmp.blockingReport(P)).decision).toBe('proceed');
      expect(trail.events.at(-1)).toMatchObject({ actor: 'alice', action: 'psmp.resolved', subject: conflictId, data: { strategy: 'OVERRIDE' } });
    });

    it(`${mode}: MERGE records who merged, why, and the merged artifact`, async () => {
      const { psmp, conflictId } = await duplicate(mode);
      const resolved = await psmp.resolve(P, conflictId, { strategy: 'MERGE', mergedDigest: 'merged', mergedRef: 'reports/merged.xml', ...who });
      const mergedId = resolved.resolutions.at(-1)?.mergedArtifactId ?? '';
      expect(await psmp.store.getArtifact(mergedId)).toMatchObject({ producer: 'merge:alice', digest: 'merged', version: 3, ref: 'reports/merged.xml' });
      expect((await psmp.blockingReport(P)).decision).toBe('proceed');
    });

    it(`${mode}: RETRY blocks until the producer declares again`, async () => {
      const { psmp, conflictId, declare } = await duplicate(mode);
      expect((await psmp.resolve(P, conflictId, { strategy: 'RETRY', ...who })).status).toBe('retrying');
      expect((await psmp.blockingReport(P)).decision).toBe(blockedWhileOpen[mode]);
      const retry = await declare({ type: 'pytest.report', producer: 'shard-2', digest: 'aaa' });
      expect(retry.closed.map((c) => [c.id, c.status, c.resolutions.at(-1)?.retriedAs])).toEqual([[conflictId, 'resolved', `${P}:pytest.report@3`]]);
      expect((await psmp.blockingReport(P)).decision).toBe('proceed');
    });

    it(`${mode}: ESCALATE waits for a human, who then resolves`, async () => {
      const { psmp, conflictId, trail } = await duplicate(mode);
      if (mode !== 'adaptive') expect((await psmp.resolve(P, conflictId, { strategy: 'ESCALATE', ...who })).status).toBe('escalated');
      expect((await psmp.blockingReport(P)).decision).toBe(whileEscalated[mode]);
      await psmp.resolve(P, conflictId, { strategy: 'OVERRIDE', by: 'bob', reason: 'checked by hand' });
      expect((await psmp.blockingReport(P)).decision).toBe('proceed');
      expect(trail.events.filter((e) => e.action === 'psmp.escalated').length).toBe(1);
    });
  }
});

describe('PSMP bad resolutions change nothing', () => {
  it('rejects an unknown artifact, an unknown conflict, a missing reason and a second resolution', async () => {
    const { psmp, declare } = await engine('strict');
    await declare({ type: 'r', producer: 'a', digest: '1' });
    const { conflicts } = await declare({ type: 'r', producer: 'b', digest: '2' });
    const id = conflicts[0]!.id;
    const before = await psmp.store.exportProjectState(P);
    const attempts = [
      [
        () => psmp.resolve(P, id, { strategy: 'OVERRIDE', winner: 'acme/widgets:r@9', by: 'a', reason: 'r' }),
        `unknown artifact 'acme/widgets:r@9' in the OVERRIDE of conflict '${id}'; expected one of: ${P}:r@1, ${P}:r@2`,
      ],
      [() => psmp.resolve(P, 'conflict-nope', { strategy: 'OVERRIDE', by: 'a', reason: 'r' }), `conflict 'conflict-nope' does not exist in project '${P}'`],
      [() => psmp.resolve(P, id, { strategy: 'MERGE', by: 'a', reason: ' ' }), `a MERGE of conflict '${id}' needs who (by) and why (reason)`],
      [() => psmp.resolve(P, id, { strategy: 'MERGE', by: 'a', reason: 'r' }), `a MERGE of conflict '${id}' needs the merged content's digest (mergedDigest)`],
    ] as const;
    for (const [attempt, message] of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isQfError(error, 'BAD_INPUT')).toBe(true);
      expect((error as Error).message).toBe(message);
    }
    expect(await psmp.store.exportProjectState(P)).toEqual(before);
    await psmp.resolve(P, id, { strategy: 'OVERRIDE', by: 'a', reason: 'r' });
    await expect(psmp.resolve(P, id, { strategy: 'OVERRIDE', by: 'a', reason: 'r' })).rejects.toThrow(/is already resolved \(OVERRIDE by a at/);
  });

  it('runs entirely in memory for a run that keeps nothing', async () => {
    const psmp = await PsmpEngine.inMemory({ mode: 'strict' });
    await psmp.declare({ projectId: P, type: 'r', producer: 'a', iteration: 1, digest: '1' });
    await psmp.declare({ projectId: P, type: 'r', producer: 'b', iteration: 1, digest: '2' });
    expect((await psmp.blockingReport(P)).decision).toBe('blocked');
    await psmp.store.close();
  });
});
