import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { rejudgeEvidence } from '../../src/github/rejudge-evidence.js';
import type { ApprovalSource } from '../../src/orchestrator/types.js';
import { parsePolicy } from '../../src/policy/load-policy.js';

const DEMO = path.resolve('examples/python-demo');
const POLICY_FILE = path.join(DEMO, '.github/qualityfoundry.yml');
const none: ApprovalSource = { lookup: async () => ({ approvals: [], rejected: [], notes: [] }) };

let evidence: Evidence;
let policyText: string;
let out: string;

beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'qf-rejudge-'));
  const io = { stdout: () => undefined, stderr: () => undefined, env: { PATH: process.env.PATH }, cwd: process.cwd() };
  expect(await main(['run', '--repo', DEMO, '--out', out], io)).toBe(0);
  evidence = JSON.parse(await readFile(path.join(out, 'evidence.json'), 'utf8'));
  policyText = await readFile(POLICY_FILE, 'utf8');
});

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

const base = () => parsePolicy(policyText, { path: '.github/qualityfoundry.yml', sourceRef: 'base' });

describe('rejudgeEvidence', () => {
  it('accepts honest evidence', async () => {
    expect(await rejudgeEvidence(evidence, base(), none)).toEqual([]);
  });

  it('catches metrics that do not add up to the steps', async () => {
    const forged = structuredClone(evidence);
    forged.metrics['pytest.failed'] = 0;
    forged.steps[0]!.metrics['pytest.failed'] = 0;
    forged.steps[0]!.tests!.counts.failed = 3;
    const problems = await rejudgeEvidence(forged, base(), none);
    expect(problems).toContain('metric pytest.failed is 0 in the evidence, its steps add up to 3');
  });

  it('catches a plan the base policy does not give (steps dropped)', async () => {
    const forged = structuredClone(evidence);
    forged.plan.planHash = 'f'.repeat(64);
    const problems = await rejudgeEvidence(forged, base(), none);
    expect(problems[0]).toMatch(/^the plan ffffffffffff… is not the one the base policy gives for this change/);
  });

  it('does not take approvals from the bundle: a change that needs one is checked against the approval source', async () => {
    const needsApproval = parsePolicy(policyText.replace('required_when: { changed: ["migrations/**"] }', 'required_when: { changed: ["**/*.py"] }'), {
      path: 'p.yml',
      sourceRef: 'base',
    });
    const forged = structuredClone(evidence);
    forged.plan.planHash = (await import('../../src/planner/build-plan.js')).buildPlan(needsApproval, { ...forged.change }).planHash;
    forged.approval = {
      required: true,
      needed: 1,
      status: 'approved',
      approvals: [{ by: 'mallory', at: forged.startedAt, planHash: forged.plan.planHash, source: 'check-run' }],
      rejected: [],
    };
    const problems = await rejudgeEvidence(forged, needsApproval, none);
    expect(problems).toContain("the plan needs 1 approval(s) and the checks API shows 0; the evidence's own approval records are not taken on trust");
    expect(problems.some((problem) => problem.startsWith("the evidence claims pass, the base policy's rules give needs_approval"))).toBe(true);
  });
});
