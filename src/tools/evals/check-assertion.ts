import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { JSONPath } from 'jsonpath-plus';
import { errorMessage } from '../../errors.js';
import { canonicalJson } from '../../util/canonical-json.js';
import type { LocalAssertion as Assertion } from './suite-schema.js';
import { rougeL, tokenF1 } from './text-similarity.js';

/** What one run of a case measured, besides its output. */
export interface RunMeasurements {
  latencyMs: number;
  tokens: number;
  costUsd: number;
}

/** One assertion's verdict on one output. `score` is in [0, 1]; `passed` is score ≥ the assertion's threshold. */
export interface AssertionResult {
  type: Assertion['type'] | 'llm-rubric';
  weight: number;
  score: number;
  passed: boolean;
  /** What was checked and, when it failed, what was seen. */
  message: string;
}

const MAX_SHOWN = 120;

/** The output as text: a string is itself; anything else is its JSON. */
export function outputText(output: unknown): string {
  return typeof output === 'string' ? output : (JSON.stringify(output) ?? 'undefined');
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** The output as JSON data: a string that parses as JSON is parsed, anything else is taken as it is. */
function asJson(output: unknown): { ok: true; value: unknown } | { ok: false; why: string } {
  if (typeof output !== 'string') return { ok: true, value: output };
  try {
    return { ok: true, value: JSON.parse(output) };
  } catch (error) {
    return { ok: false, why: errorMessage(error) };
  }
}

const sameJson = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

// One compiler for the whole run; compiled schemas are cached by their canonical JSON.
const ajv = new Ajv2020({ strict: false, allErrors: false });
const compiled = new Map<string, ValidateFunction | Error>();
function validator(schema: Record<string, unknown>): ValidateFunction | Error {
  const key = canonicalJson(schema);
  let entry = compiled.get(key);
  if (!entry) {
    try {
      entry = ajv.compile(schema);
    } catch (error) {
      entry = new Error(`the assertion's JSON Schema is not valid: ${errorMessage(error)}`);
    }
    compiled.set(key, entry);
  }
  return entry;
}

type Outcome = { pass: boolean; message: string; score?: number };

function missingReference(type: string): Outcome {
  return { pass: false, message: `${type}: no \`value\` given and the case has no \`expected\`` };
}

function judge(assertion: Assertion, output: unknown, expected: unknown, measured: RunMeasurements): Outcome {
  switch (assertion.type) {
    case 'equals': {
      const want = assertion.value !== undefined ? assertion.value : expected;
      if (want === undefined) return missingReference('equals');
      return sameJson(output, want)
        ? { pass: true, message: `equals ${shown(want)}` }
        : { pass: false, message: `expected ${shown(want)}, got ${shown(output)}` };
    }
    case 'contains':
    case 'not-contains': {
      const text = assertion.ignore_case ? outputText(output).toLowerCase() : outputText(output);
      const found = text.includes(assertion.ignore_case ? assertion.value.toLowerCase() : assertion.value);
      const pass = assertion.type === 'contains' ? found : !found;
      return { pass, message: `${pass ? '' : 'not: '}${assertion.type} ${shown(assertion.value)}${pass ? '' : ` (output ${shown(output)})`}` };
    }
    case 'regex': {
      let pattern: RegExp;
      try {
        pattern = new RegExp(assertion.pattern, assertion.flags);
      } catch (error) {
        return { pass: false, message: `regex /${assertion.pattern}/ is not a valid regular expression: ${errorMessage(error)}` };
      }
      const pass = pattern.test(outputText(output));
      return { pass, message: pass ? `matches /${assertion.pattern}/` : `does not match /${assertion.pattern}/ (output ${shown(output)})` };
    }
    case 'is-json': {
      const parsed = asJson(output);
      return parsed.ok ? { pass: true, message: 'is JSON' } : { pass: false, message: `not JSON: ${parsed.why}` };
    }
    case 'json-schema': {
      const parsed = asJson(output);
      if (!parsed.ok) return { pass: false, message: `not JSON, so not valid against the schema: ${parsed.why}` };
      const validate = validator(assertion.schema);
      if (validate instanceof Error) return { pass: false, message: validate.message };
      if (validate(parsed.value)) return { pass: true, message: 'valid against the JSON Schema' };
      const first = validate.errors?.[0];
      return { pass: false, message: `not valid against the JSON Schema: ${first ? `${first.instancePath || '(root)'} ${first.message ?? ''}` : 'invalid'}` };
    }
    case 'json-path': {
      const parsed = asJson(output);
      if (!parsed.ok) return { pass: false, message: `not JSON, so ${assertion.path} cannot be read: ${parsed.why}` };
      let found: unknown;
      try {
        // The suite comes from the pull request: JSONPath script expressions are never evaluated.
        found = JSONPath({ path: assertion.path, json: parsed.value as object, wrap: false, eval: false });
      } catch (error) {
        return { pass: false, message: `json-path ${assertion.path}: ${errorMessage(error)}` };
      }
      const pass = found !== undefined && sameJson(found, assertion.equals);
      return {
        pass,
        message: pass ? `${assertion.path} = ${shown(assertion.equals)}` : `${assertion.path}: expected ${shown(assertion.equals)}, got ${shown(found)}`,
      };
    }
    case 'within': {
      const want = assertion.value ?? expected;
      if (typeof want !== 'number')
        return want === undefined ? missingReference('within') : { pass: false, message: `within: the expected value ${shown(want)} is not a number` };
      const parsed = asJson(output);
      const got = parsed.ok ? parsed.value : output;
      if (typeof got !== 'number') return { pass: false, message: `within: the output ${shown(output)} is not a number` };
      const pass = Math.abs(got - want) <= assertion.tolerance;
      return { pass, message: `${got} is ${pass ? '' : 'not '}within ${assertion.tolerance} of ${want}` };
    }
    case 'latency-ms':
      return bound('latency', measured.latencyMs, assertion.max, ' ms');
    case 'tokens':
      return bound('tokens', measured.tokens, assertion.max, '');
    case 'cost-usd':
      return bound('cost', measured.costUsd, assertion.max, ' USD');
    case 'similarity': {
      const reference = assertion.value ?? expected;
      if (reference === undefined) return missingReference('similarity');
      const measure = assertion.method === 'rouge-l' ? rougeL : tokenF1;
      const score = measure(outputText(output), outputText(reference));
      const pass = score >= assertion.threshold;
      return { pass, score, message: `${assertion.method} ${score.toFixed(3)} ${pass ? '≥' : '<'} ${assertion.threshold}` };
    }
  }
}

function bound(what: string, value: number, max: number, unit: string): Outcome {
  const pass = value <= max;
  return { pass, message: `${what} ${Number(value.toFixed(6))}${unit} ${pass ? '≤' : '>'} ${max}${unit}` };
}

/** Checks one output against one deterministic assertion. */
export function checkAssertion(assertion: Assertion, output: unknown, expected: unknown, measured: RunMeasurements): AssertionResult {
  const outcome = judge(assertion, output, expected, measured);
  const score = outcome.score ?? (outcome.pass ? 1 : 0);
  // Binary assertions score 0 or 1 and need 1 unless their threshold says less (0: informational).
  const passed = score >= (assertion.threshold ?? 1);
  const message = !passed && assertion.description ? `${assertion.description}: ${outcome.message}` : outcome.message;
  return { type: assertion.type, weight: assertion.weight, score, passed, message };
}

/**
 * A run's score: the weighted share of assertions that passed (weight 0 counts for nothing). A run
 * with no counted assertion scores 1: it produced an output, which is all it was asked to do.
 */
export function runScore(results: readonly AssertionResult[]): number {
  const total = results.reduce((sum, result) => sum + result.weight, 0);
  if (total === 0) return 1;
  return results.reduce((sum, result) => sum + (result.passed ? result.weight : 0), 0) / total;
}
