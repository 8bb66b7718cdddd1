import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { QfError } from '../errors.js';
import { judge } from './judge.js';
import { parsePolicy } from '../policy/load-policy.js';
import { GoldenDatasetSchema, type GoldenCase } from './golden-case.js';
import { scoreGoldenEvals } from './golden-evals.js';
import { vetoFindings } from './veto-findings.js';

export interface GoldenResult {
  name: string;
  ok: boolean;
  problems: string[];
}

async function policyOf(goldenCase: GoldenCase, datasetDir: string) {
  if (goldenCase.policy !== undefined) return parsePolicy(goldenCase.policy, { path: `golden:${goldenCase.name}`, sourceRef: null }).policy;
  if (goldenCase.policy_file !== undefined) {
    const file = path.resolve(datasetDir, goldenCase.policy_file);
    return parsePolicy(await readFile(file, 'utf8'), { path: file, sourceRef: null }).policy;
  }
  throw new QfError('BAD_INPUT', `Golden case "${goldenCase.name}" has neither policy nor policy_file.`);
}

export async function runGoldenCase(goldenCase: GoldenCase, datasetDir: string): Promise<GoldenResult> {
  const policy = await policyOf(goldenCase, datasetDir);
  const { evidence, expect } = goldenCase;
  const evals = goldenCase.evals ? await scoreGoldenEvals(goldenCase.evals, goldenCase.name) : undefined;
  const metrics: Record<string, number> = { ...evidence.metrics, ...evals?.metrics, 'governance.vetoes': evidence.vetoes.length };
  const judgement = judge({
    policy,
    metrics,
    steps: evidence.steps,
    approvalWaiting: evidence.approval_waiting,
    shortCircuit: evidence.short_circuit,
    blockingFindings: vetoFindings(policy.mode, evidence.vetoes),
  });
  const problems: string[] = [];
  for (const [name, value] of Object.entries(expect.metrics)) {
    if (metrics[name] !== value) problems.push(`metric ${name} is ${metrics[name] ?? 'not measured'}, expected ${value}`);
  }
  for (const [id, want] of Object.entries(expect.cases)) {
    const found = evals?.cases.find((entry) => entry.id === id);
    const got = found ? `${found.status}${want.includes('/') ? `/${found.comparison ?? 'none'}` : ''}` : 'missing';
    if (got !== want) problems.push(`eval case ${id} is ${got}, expected ${want}${found?.failures.length ? ` (${found.failures.join('; ')})` : ''}`);
  }
  if (judgement.verdict !== expect.verdict) problems.push(`verdict ${judgement.verdict}, expected ${expect.verdict}`);
  for (const [id, status] of Object.entries(expect.rules)) {
    const rule = judgement.rules.find((candidate) => candidate.id === id);
    if (!rule) problems.push(`rule ${id} missing from the judgement`);
    else if (rule.status !== status) problems.push(`rule ${id} is ${rule.status}, expected ${status} (${rule.reason})`);
  }
  for (const reason of expect.reasons) {
    if (!judgement.reasons.includes(reason)) problems.push(`missing reason "${reason}"; got: ${judgement.reasons.map((r) => `"${r}"`).join(', ')}`);
  }
  return { name: goldenCase.name, ok: problems.length === 0, problems };
}

export async function runGoldenDataset(file: string): Promise<GoldenResult[]> {
  let raw: unknown;
  try {
    raw = parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new QfError('BAD_INPUT', `Cannot read golden dataset ${file}: ${(error as Error).message}`, { cause: error });
  }
  const dataset = GoldenDatasetSchema.safeParse(raw);
  if (!dataset.success) {
    const issue = dataset.error.issues[0]!;
    throw new QfError('BAD_INPUT', `Golden dataset ${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  const results: GoldenResult[] = [];
  for (const goldenCase of dataset.data.cases) results.push(await runGoldenCase(goldenCase, path.dirname(file)));
  return results;
}
