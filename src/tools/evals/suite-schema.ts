import * as z from 'zod';

/**
 * An eval suite file (`evals/*.yaml` in the repository under test): a target that turns each case
 * into an output, the cases, and the assertions that score each output. Each field's description is
 * its documentation; `policies/eval-suite.schema.json` is generated from it for editors.
 */

const weight = z.number().min(0).default(1).describe('How much this assertion counts in the case score (0: reported, never counted).');

/** Fields every assertion has. */
const common = {
  weight,
  threshold: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('Score (0–1) this assertion needs to pass; binary assertions score 0 or 1, so it matters for graded ones (similarity).'),
  description: z.string().optional().describe('Shown instead of the generated description when the assertion fails.'),
};

const EqualsAssertion = z
  .strictObject({
    type: z.literal('equals'),
    value: z.unknown().optional().describe("The expected output; default: the case's `expected`. Compared as JSON (key order ignored)."),
    ...common,
  })
  .describe('The output equals a value.');

const ContainsAssertion = z
  .strictObject({
    type: z.enum(['contains', 'not-contains']),
    value: z.string().describe('Text the output (as text) must contain, or must not.'),
    ignore_case: z.boolean().default(false),
    ...common,
  })
  .describe('The output contains (or does not contain) a text.');

const RegexAssertion = z
  .strictObject({
    type: z.literal('regex'),
    pattern: z.string().min(1).describe('A JavaScript regular expression the output (as text) must match.'),
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'regular expression flags among i, m, s, u')
      .default(''),
    ...common,
  })
  .describe('The output matches a regular expression.');

const IsJsonAssertion = z
  .strictObject({ type: z.literal('is-json'), ...common })
  .describe('The output is JSON: a value other than a string, or a string that parses as JSON.');

const JsonSchemaAssertion = z
  .strictObject({
    type: z.literal('json-schema'),
    schema: z.record(z.string(), z.unknown()).describe('A JSON Schema (draft 2020-12 or 07) the output (parsed when a JSON string) must satisfy.'),
    ...common,
  })
  .describe('The output satisfies a JSON Schema.');

const JsonPathAssertion = z
  .strictObject({
    type: z.literal('json-path'),
    path: z.string().min(1).describe('A JSONPath into the output (parsed when a JSON string), e.g. "$.answer.city"; script expressions are not evaluated.'),
    equals: z.unknown().describe('The value found at the path must equal this (as JSON).'),
    ...common,
  })
  .describe('The value at a JSONPath equals a value.');

const WithinAssertion = z
  .strictObject({
    type: z.literal('within'),
    value: z.number().optional().describe("The expected number; default: the case's `expected`."),
    tolerance: z.number().min(0).describe('Largest allowed absolute difference.'),
    ...common,
  })
  .describe('The output is a number within a tolerance of a value.');

const bound = (what: string) => z.number().min(0).describe(`Largest allowed ${what}.`);

const LatencyAssertion = z
  .strictObject({ type: z.literal('latency-ms'), max: bound('time, in milliseconds, the target took for the case'), ...common })
  .describe("The target's time for the case is at most a bound.");

const TokensAssertion = z
  .strictObject({ type: z.literal('tokens'), max: bound('number of LLM tokens (prompt + completion) the target spent on the case'), ...common })
  .describe('The tokens the target spent on the case are at most a bound (0 for command and python targets).');

const CostAssertion = z
  .strictObject({ type: z.literal('cost-usd'), max: bound('cost in US dollars of the case'), ...common })
  .describe("The cost of the case is at most a bound (from the provider's usd_per_million_tokens in the policy; 0 for command and python targets).");

const SimilarityAssertion = z
  .strictObject({
    type: z.literal('similarity'),
    method: z
      .enum(['token-f1', 'rouge-l'])
      .default('token-f1')
      .describe('token-f1: overlap of word tokens; rouge-l: longest common subsequence of word tokens (F-measure).'),
    value: z.string().optional().describe("The reference text; default: the case's `expected`."),
    ...common,
    threshold: z.number().min(0).max(1).default(0.8).describe('Least similarity (0–1) to pass.'),
  })
  .describe('The output is similar enough to a reference text (computed locally, no model).');

const LlmRubricAssertion = z
  .strictObject({
    type: z.literal('llm-rubric'),
    rubric: z.string().min(1).describe('What a good output is, in words; a judge model scores the output against it from 0 to 1.'),
    provider: z
      .string()
      .min(1)
      .optional()
      .describe("The gateway provider to judge with; default: the one the routing policy recommends for the task's sensitivity."),
    model: z.string().min(1).optional().describe("The model to ask for; default: the provider's."),
    ...common,
    threshold: z.number().min(0).max(1).default(0.5).describe("Least judge's score (0–1) to pass."),
  })
  .describe('A judge model, called through the SecureGateway, scores the output against a rubric.');

/** Assertion types, in the order the documentation lists them. */
export const AssertionSchema = z.discriminatedUnion('type', [
  EqualsAssertion,
  ContainsAssertion,
  RegexAssertion,
  IsJsonAssertion,
  JsonSchemaAssertion,
  JsonPathAssertion,
  WithinAssertion,
  LatencyAssertion,
  TokensAssertion,
  CostAssertion,
  SimilarityAssertion,
  LlmRubricAssertion,
]);

export const ASSERTION_TYPES = [
  'equals',
  'contains',
  'not-contains',
  'regex',
  'is-json',
  'json-schema',
  'json-path',
  'within',
  'latency-ms',
  'tokens',
  'cost-usd',
  'similarity',
  'llm-rubric',
] as const;

/** The assertions checked locally, without a model. */
export type LocalAssertion = Exclude<z.infer<typeof AssertionSchema>, { type: 'llm-rubric' }>;

const repeat = z.number().int().min(1).max(100).describe('Runs of each case; with `min_passes`, how flaky a case may be.');
const minPasses = z.number().int().min(1).max(100).describe('Runs (of `repeat`) that must pass for the case to pass; default: all of them.');
const caseThreshold = z.number().min(0).max(1).describe('Weighted share of assertions (by `weight`) a run must pass; default 1: every counted assertion.');

export const CaseSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'a case id of letters, digits and _ . : -')
      .max(120)
      .describe('Unique within the suite; how base and head results are matched.'),
    description: z.string().optional(),
    input: z.unknown().optional().describe('What the target gets for this case (any JSON value).'),
    vars: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Named values, for targets that take several (a python function gets them as keyword arguments when there is no `input`).'),
    expected: z.unknown().optional().describe('The expected output, the default value of equals, within and similarity.'),
    assert: z.array(AssertionSchema).default([]).describe("This case's assertions, after the suite's `assert`."),
    threshold: caseThreshold.optional(),
    timeout_seconds: z.number().positive().max(3_600).optional().describe("Deadline of one run of this case; default: the suite's."),
    repeat: repeat.optional(),
    min_passes: minPasses.optional(),
  })
  .describe('One eval case.');

const CommandTarget = z
  .strictObject({
    command: z
      .array(z.string().min(1))
      .min(1)
      .describe('argv of a program that reads the case as JSON ({id, input, vars}) on stdin and prints its output as JSON on stdout.'),
    cwd: z.string().optional().describe('Working directory relative to the repository root.'),
  })
  .describe("A program run once per case, in the step's sandbox.");

const PythonTarget = z
  .strictObject({
    python: z
      .string()
      .regex(/^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/, 'module:function, e.g. "app.qa:answer"')
      .describe('module:function, called with the case input (or its vars as keyword arguments); its return value (JSON-serialisable) is the output.'),
    interpreter: z.string().min(1).default('python3').describe('The Python interpreter to run it with.'),
    cwd: z.string().optional().describe('Working directory (and import root) relative to the repository root.'),
  })
  .describe("A Python function called once per case, in the step's sandbox.");

const LlmTarget = z
  .strictObject({
    llm: z.strictObject({
      provider: z
        .string()
        .min(1)
        .optional()
        .describe("A provider of the policy's gateway; default: the one the routing policy recommends for the task's sensitivity."),
      model: z.string().min(1).optional().describe("The model to ask for; default: the provider's."),
      system: z.string().optional().describe('A system message, sent before the prompt.'),
      prompt: z
        .string()
        .min(1)
        .describe('The user message; {{input}} is replaced by the case input and {{name}} by its var `name` (text as it is, anything else as JSON).'),
      max_tokens: z.number().int().min(1).optional(),
      temperature: z.number().min(0).max(2).optional(),
    }),
  })
  .describe('A chat model, called through the SecureGateway with the prompt filled in from the case; its answer (text) is the output.');

export const TargetSchema = z.union([CommandTarget, PythonTarget, LlmTarget]).describe('What produces an output for each case.');

export const SuiteSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'a lower-case name of letters, digits, _ and -')
      .describe('The suite name; its metrics are evals.<name>.pass_rate and the like.'),
    description: z.string().optional(),
    target: TargetSchema,
    timeout_seconds: z.number().positive().max(3_600).default(30).describe('Deadline of one run of one case.'),
    threshold: caseThreshold.default(1),
    repeat: repeat.default(1),
    min_passes: minPasses.optional(),
    assert: z.array(AssertionSchema).default([]).describe('Assertions every case gets, before its own.'),
    cases: z.array(CaseSchema).default([]).describe('The cases, inline.'),
    cases_file: z.string().min(1).optional().describe('A JSONL file of more cases (one case object per line), relative to this suite file.'),
    cache: z
      .boolean()
      .default(true)
      .describe('Answer a model request made before (same provider, model, messages and run number) from the response cache instead of paying for it again.'),
  })
  .describe('A QualityFoundry eval suite.');

export type Suite = z.infer<typeof SuiteSchema>;
export type SuiteInput = z.input<typeof SuiteSchema>;
export type EvalCase = z.infer<typeof CaseSchema>;
export type Assertion = z.infer<typeof AssertionSchema>;
export type Target = z.infer<typeof TargetSchema>;
export type LlmTargetSpec = z.infer<typeof LlmTarget>['llm'];
