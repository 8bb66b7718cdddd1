import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { QfError } from '../errors.js';
import type { ApprovalSource } from '../orchestrator/types.js';

const ApprovalsFileSchema = z.array(
  z.strictObject({
    by: z.string().min(1),
    planHash: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 plan hash as printed by `qf run`'),
    at: z.string().optional(),
    headSha: z.string().optional(),
  }),
);

/** `--approve`: the person at the keyboard approves whatever plan this run builds. */
export function approveFlagSource(user: string, now: () => Date): ApprovalSource {
  return { lookup: async (planHash) => ({ approvals: [{ by: user, at: now().toISOString(), planHash, source: 'cli' }], rejected: [], notes: [] }) };
}

export const noApprovals: ApprovalSource = { lookup: async () => ({ approvals: [], rejected: [], notes: [] }) };

/** `--approvals FILE`: a JSON list of `{ by, planHash, at?, headSha? }`. */
export async function approvalsFileSource(file: string, now: () => Date): Promise<ApprovalSource> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new QfError(
      'BAD_INPUT',
      `Cannot read approvals file ${file}: ${(error as Error).message}. Expected a JSON list of { "by": "login", "planHash": "<sha256>" }.`,
      { cause: error },
    );
  }
  const parsed = ApprovalsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new QfError(
      'BAD_INPUT',
      `Approvals file ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}. Expected a JSON list of { "by": "login", "planHash": "<sha256>" }.`,
    );
  }
  const approvals = parsed.data.map((entry) => ({
    by: entry.by,
    at: entry.at ?? now().toISOString(),
    planHash: entry.planHash,
    ...(entry.headSha ? { headSha: entry.headSha } : {}),
    source: 'file',
  }));
  return { lookup: async () => ({ approvals, rejected: [], notes: [] }) };
}
