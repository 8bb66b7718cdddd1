import { errorMessage, isQfError } from '../../errors.js';
import type { LlmTask } from '../../governance/gateway/secure-gateway.js';
import type { LlmAccess } from '../tool-definition.js';
import type { AssertionResult } from './check-assertion.js';
import { outputText } from './check-assertion.js';
import type { TargetOutcome } from './run-target.js';
import type { Assertion, EvalCase, LlmTargetSpec } from './suite-schema.js';

/** Why a model call gave no answer: a veto and a spent budget stop the case; anything else is an error of the run. */
export type CallStop = 'vetoed' | 'budget';

export type LlmAnswer =
  | { ok: true; content: string; tokens: number; costUsd: number; latencyMs: number }
  | { ok: false; error: string; stop?: CallStop; latencyMs: number };

const NO_GATEWAY = 'this run has no SecureGateway, and models are called only through it';

/** `{{input}}` and `{{name}}` (a var) filled in: text as it is, anything else as JSON. Throws naming a placeholder the case lacks. */
export function fillPrompt(template: string, evalCase: EvalCase): string {
  return template.replace(/\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g, (_, name: string) => {
    const value = name === 'input' ? evalCase.input : evalCase.vars?.[name];
    if (value === undefined) throw new Error(`the prompt uses {{${name}}}, which case "${evalCase.id}" does not define`);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** One task through the gateway: the answer, or why there is none (veto, spent budget, a provider that failed). */
export async function askGateway(llm: LlmAccess | undefined, task: Omit<LlmTask, 'changedFiles' | 'labels'>): Promise<LlmAnswer> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (!llm) return { ok: false, error: NO_GATEWAY, latencyMs: 0 };
  try {
    const result = await llm.gateway.complete({ ...task, changedFiles: [...llm.changedFiles], labels: [...llm.labels] });
    if (result.ok) {
      const tokens = result.usage.promptTokens + result.usage.completionTokens;
      return { ok: true, content: result.content, tokens, costUsd: result.costUsd, latencyMs: elapsed() };
    }
    if ('veto' in result)
      return { ok: false, stop: 'vetoed', error: `vetoed by the SecureGateway (${result.veto.code}): ${result.veto.message}`, latencyMs: elapsed() };
    return {
      ok: false,
      stop: 'budget',
      error: `the run's budget.llm_tokens of ${result.budgetSpent.limit} is spent (${result.budgetSpent.spent} used)`,
      latencyMs: elapsed(),
    };
  } catch (error) {
    if (!isQfError(error, 'TOOL_FAILED')) throw error;
    return { ok: false, error: errorMessage(error), latencyMs: elapsed() };
  }
}

/** An llm target's run for one case: the model's answer is the output (text). */
export async function runLlmTarget(
  spec: LlmTargetSpec,
  evalCase: EvalCase,
  context: { llm?: LlmAccess; suite: string; run: number; cache: boolean; timeoutMs: number },
): Promise<TargetOutcome> {
  let prompt: string;
  try {
    prompt = fillPrompt(spec.prompt, evalCase);
  } catch (error) {
    return { ok: false, error: errorMessage(error), latencyMs: 0, tokens: 0, costUsd: 0 };
  }
  const answer = await askGateway(context.llm, {
    id: `eval:${context.suite}/${evalCase.id}`,
    purpose: 'eval target',
    messages: [...(spec.system !== undefined ? [{ role: 'system' as const, content: spec.system }] : []), { role: 'user', content: prompt }],
    ...(spec.provider !== undefined ? { provider: spec.provider } : {}),
    ...(spec.model !== undefined ? { model: spec.model } : {}),
    ...(spec.max_tokens !== undefined ? { maxTokens: spec.max_tokens } : {}),
    ...(spec.temperature !== undefined ? { temperature: spec.temperature } : {}),
    cache: context.cache,
    cacheSalt: `run ${context.run}`,
    timeoutMs: context.timeoutMs,
  });
  if (!answer.ok) return { ok: false, error: answer.error, ...(answer.stop ? { stop: answer.stop } : {}), latencyMs: answer.latencyMs, tokens: 0, costUsd: 0 };
  return { ok: true, output: answer.content, latencyMs: answer.latencyMs, tokens: answer.tokens, costUsd: answer.costUsd };
}

const JUDGE_SYSTEM =
  'You grade an output against a rubric. Answer with one JSON object and nothing else: {"score": <a number from 0 to 1>, "reason": "<one sentence>"}.';

/** The judge's {score, reason}, found in its answer (models like to wrap JSON in prose or fences). */
export function parseJudgement(content: string): { score: number; reason: string } | undefined {
  const match = /\{[\s\S]*\}/.exec(content);
  if (!match) return undefined;
  try {
    const value = JSON.parse(match[0]) as { score?: unknown; reason?: unknown };
    if (typeof value.score !== 'number' || !Number.isFinite(value.score) || value.score < 0 || value.score > 1) return undefined;
    return { score: value.score, reason: typeof value.reason === 'string' ? value.reason : '' };
  } catch {
    return undefined;
  }
}

export type RubricVerdict = { result: AssertionResult; tokens: number; costUsd: number } | { stop: CallStop; error: string; tokens: 0; costUsd: 0 };

/** An llm-rubric assertion: a judge model scores the output through the gateway. A garbled judgement fails the assertion. */
export async function judgeWithRubric(
  assertion: Extract<Assertion, { type: 'llm-rubric' }>,
  output: unknown,
  evalCase: EvalCase,
  context: { llm?: LlmAccess; suite: string; run: number; cache: boolean; timeoutMs: number },
): Promise<RubricVerdict> {
  const input = evalCase.input ?? evalCase.vars;
  const answer = await askGateway(context.llm, {
    id: `eval:${context.suite}/${evalCase.id}:judge`,
    purpose: 'eval judge',
    messages: [
      { role: 'system', content: JUDGE_SYSTEM },
      { role: 'user', content: `Rubric:\n${assertion.rubric}\n\nInput:\n${outputText(input ?? null)}\n\nOutput:\n${outputText(output)}` },
    ],
    ...(assertion.provider !== undefined ? { provider: assertion.provider } : {}),
    ...(assertion.model !== undefined ? { model: assertion.model } : {}),
    temperature: 0,
    cache: context.cache,
    cacheSalt: `judge run ${context.run}`,
    timeoutMs: context.timeoutMs,
  });
  const base = { type: 'llm-rubric' as const, weight: assertion.weight };
  if (!answer.ok) {
    if (answer.stop) return { stop: answer.stop, error: answer.error, tokens: 0, costUsd: 0 };
    return { result: { ...base, score: 0, passed: false, message: `the judge gave no answer: ${answer.error}` }, tokens: 0, costUsd: 0 };
  }
  const judgement = parseJudgement(answer.content);
  if (!judgement) {
    const message = `the judge answered something other than {"score": 0–1, "reason": …}: ${JSON.stringify(answer.content.slice(0, 120))}`;
    return { result: { ...base, score: 0, passed: false, message }, tokens: answer.tokens, costUsd: answer.costUsd };
  }
  const passed = judgement.score >= assertion.threshold;
  const message = `judge scored ${judgement.score} ${passed ? '≥' : '<'} ${assertion.threshold}${judgement.reason ? `: ${judgement.reason}` : ''}`;
  return {
    result: { ...base, score: judgement.score, passed, message: !passed && assertion.description ? `${assertion.description}: ${message}` : message },
    tokens: answer.tokens,
    costUsd: answer.costUsd,
  };
}
