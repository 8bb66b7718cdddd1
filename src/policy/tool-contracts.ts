import * as z from 'zod';
import { DEFAULT_PYTHON } from '../constants.js';
import type { MetricInfo, ToolContract } from './tool-contract.js';

export const RunPytestInput = z.strictObject({
  paths: z.array(z.string().min(1)).default([]).describe("Test paths relative to the working directory; empty runs pytest's own discovery."),
  args: z.array(z.string()).default([]).describe('Extra pytest arguments, e.g. ["-x", "-m", "not slow"].'),
  python: z.string().min(1).default(DEFAULT_PYTHON).describe('Python interpreter to run pytest with; default sandbox.python, else python3 from the PATH.'),
  cwd: z.string().optional().describe('Working directory relative to the repository root.'),
});
export type RunPytestInput = z.infer<typeof RunPytestInput>;

/** What each pytest metric means, for `qf metrics` and the README. */
export const PYTEST_METRICS: readonly MetricInfo[] = [
  { name: 'pytest.total', meaning: 'tests pytest ran or skipped, one per JUnit test case (subtests and deselected tests are not in it)', unit: 'tests' },
  { name: 'pytest.passed', meaning: 'tests that passed', unit: 'tests' },
  { name: 'pytest.failed', meaning: 'tests that failed, a strict XPASS (xfail(strict=True) that passed) included', unit: 'tests' },
  { name: 'pytest.errors', meaning: 'tests that errored outside the test body (fixture set-up or teardown)', unit: 'tests' },
  { name: 'pytest.skipped', meaning: 'tests skipped', unit: 'tests' },
  { name: 'pytest.xfailed', meaning: 'tests marked xfail that failed, as expected', unit: 'tests' },
  { name: 'pytest.xpassed', meaning: 'tests marked xfail (not strict) that passed', unit: 'tests' },
  {
    name: 'pytest.pass_rate',
    meaning: 'share of the tests that ran which passed; 1 when none ran',
    unit: 'ratio 0–1',
    formula: '(passed + xpassed) / (total − skipped − xfailed)',
  },
  { name: 'pytest.duration_seconds', meaning: 'wall-clock time of the pytest processes, collection and fixtures included', unit: 'seconds' },
  { name: 'pytest.subtests_passed', meaning: 'subtests (pytest 9 `subtests.test(…)`) that passed', unit: 'subtests' },
  { name: 'pytest.subtests_failed', meaning: 'subtests that failed (their test fails too and is in pytest.failed)', unit: 'subtests' },
  { name: 'pytest.deselected', meaning: 'tests collected but deselected by -k, -m or --deselect: not run', unit: 'tests' },
];

export const RUN_PYTEST_CONTRACT: ToolContract<RunPytestInput> = {
  name: 'run_pytest',
  description: 'Runs pytest with a JUnit report and publishes per-test outcomes and counts.',
  input: RunPytestInput as z.ZodType<RunPytestInput>,
  metrics: PYTEST_METRICS,
  policyDefaults: (policy) => (policy.sandbox.python ? { python: policy.sandbox.python } : {}),
};

export const RunCommandInput = z.strictObject({
  command: z.string().min(1).describe('Name of a command under tools.commands in the policy.'),
  cwd: z.string().optional().describe('Working directory relative to the repository root.'),
});
export type RunCommandInput = z.infer<typeof RunCommandInput>;

export const RUN_COMMAND_CONTRACT: ToolContract<RunCommandInput> = {
  name: 'run_command',
  description: 'Runs a command the policy names under tools.commands (lint, build) and reports its exit code and output tail.',
  input: RunCommandInput as z.ZodType<RunCommandInput>,
  metrics: [
    { name: 'command.<name>.exit_code', meaning: 'exit code of the named command from tools.commands', unit: 'exit code' },
    { name: 'command.failed', meaning: 'commands that exited non-zero, over all run_command steps', unit: 'commands' },
  ],
  checkInPolicy: (input, policy) => {
    if (!policy.tools || typeof input.command !== 'string' || input.command in policy.tools.commands) return [];
    const names = Object.keys(policy.tools.commands);
    return [
      { path: ['command'], message: `command "${input.command}" is not defined under tools.commands${names.length ? ` (defined: ${names.join(', ')})` : ''}` },
    ];
  },
};

export const RunEvalsInput = z.strictObject({
  suites: z
    .array(
      z
        .string()
        .min(1)
        .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))/, 'a glob relative to the repository root, without ".."'),
    )
    .min(1)
    .default(['evals/*.yaml', 'evals/*.yml'])
    .describe('Globs of eval suite files, relative to the repository root (see policies/eval-suite.schema.json).'),
  base: z
    .boolean()
    .default(true)
    .describe(
      "Also run the base commit's suites (a clean worktree of the change's base, in the same sandbox) and compare case by case: regressed, fixed, unchanged, new, removed. Needs the base commit in the checkout.",
    ),
});
export type RunEvalsInput = z.infer<typeof RunEvalsInput>;

export const RUN_EVALS_CONTRACT: ToolContract<RunEvalsInput> = {
  name: 'run_evals',
  description: "Runs eval suites (evals/*.yaml): each case through its target in the step's sandbox, scored by its assertions.",
  input: RunEvalsInput as z.ZodType<RunEvalsInput>,
  metrics: [
    { name: 'evals.total', meaning: 'eval cases of every suite run_evals ran (the head)', unit: 'cases' },
    { name: 'evals.passed', meaning: 'eval cases whose runs passed at least min_passes times', unit: 'cases' },
    {
      name: 'evals.failed',
      meaning: 'eval cases that ran and did not pass: an assertion failed, or the target crashed, timed out or printed no JSON',
      unit: 'cases',
    },
    {
      name: 'evals.errors',
      meaning: 'eval cases whose every run was an error of the target (crash, timeout, output that is not JSON, a provider that failed)',
      unit: 'cases',
    },
    { name: 'evals.vetoed', meaning: 'eval cases whose model call the SecureGateway vetoed', unit: 'cases' },
    { name: 'evals.skipped', meaning: "eval cases not run: the step's deadline or the run's budget.llm_tokens was reached", unit: 'cases' },
    {
      name: 'evals.pass_rate',
      meaning: 'share of all eval cases that passed (a case that did not run did not pass); 1 with no case',
      unit: 'ratio 0–1',
      formula: 'passed / total',
    },
    { name: 'evals.pass_k', meaning: 'pass^k: the share of eval cases every one of whose repeat runs passed', unit: 'ratio 0–1' },
    { name: 'evals.tokens', meaning: "tokens of the eval targets' and judges' model answers (cached answers included)", unit: 'tokens' },
    { name: 'evals.cost_usd', meaning: "cost of those answers from the providers' usd_per_million_tokens", unit: 'US dollars' },
    { name: 'evals.regressions', meaning: 'eval cases that passed on the base commit and fail on the head', unit: 'cases' },
    { name: 'evals.fixed', meaning: 'eval cases that failed on the base commit and pass on the head', unit: 'cases' },
    { name: 'evals.<name>.pass_rate', meaning: 'the pass rate of the eval suite named <name>', unit: 'ratio 0–1' },
  ],
};

/** Every tool a policy may name. src/tools/tool-registry.ts has one ToolDefinition per contract (a test checks it). */
export const TOOL_CONTRACTS: ReadonlyMap<string, ToolContract> = new Map<string, ToolContract>(
  [RUN_PYTEST_CONTRACT, RUN_COMMAND_CONTRACT, RUN_EVALS_CONTRACT].map((contract) => [contract.name, contract as ToolContract]),
);
