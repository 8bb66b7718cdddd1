import type { Sandbox, SandboxResult } from '../../sandbox/types.js';
import type { EvalCase, Target } from './suite-schema.js';

/** The targets that run a program in the sandbox. */
export type SandboxedTarget = Exclude<Target, { llm: unknown }>;

/** What one run of a target gave for a case: an output, or why there is none. */
export type TargetOutcome =
  | { ok: true; output: unknown; latencyMs: number; tokens: number; costUsd: number }
  /** `stop`: the gateway vetoed the call, or the run's token budget is spent: the case stops there. */
  | { ok: false; error: string; stop?: 'vetoed' | 'budget'; latencyMs: number; tokens: number; costUsd: number };

export interface TargetContext {
  sandbox: Sandbox;
  repoDir: string;
  outputDir: string;
  env: Record<string, string>;
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
}

/**
 * Calls `module:function` with the case and prints `{"output": …, "ms": …}`. The function's own
 * prints go to stderr, so they cannot be taken for its result; an exception ends the process with
 * its traceback on stderr. `ms` is the call alone, without the interpreter's start.
 */
const PYTHON_SHIM = `
import importlib, json, os, sys, time
module_name, function_name = sys.argv[1].split(":")
case = json.loads(sys.stdin.read())
result_stream, sys.stdout = sys.stdout, sys.stderr
sys.path.insert(0, os.getcwd())
function = getattr(importlib.import_module(module_name), function_name)
started = time.perf_counter()
result = function(case["input"]) if "input" in case else function(**case.get("vars", {}))
elapsed = (time.perf_counter() - started) * 1000
result_stream.write(json.dumps({"output": result, "ms": elapsed}))
`;

const TAIL_LINES = 5;

function tail(result: SandboxResult): string {
  const text = (result.stderr.text || result.stdout.text).trim();
  return text ? `: ${text.split('\n').slice(-TAIL_LINES).join('\n')}` : '';
}

/** What the target sees of a case: never `expected` or the assertions. */
export function caseForTarget(evalCase: EvalCase): string {
  return JSON.stringify({
    id: evalCase.id,
    ...(evalCase.input !== undefined ? { input: evalCase.input } : {}),
    ...(evalCase.vars ? { vars: evalCase.vars } : {}),
  });
}

/** The sandbox's answer as a target outcome: a crash, a timeout or stdout that is not JSON is an error of this run. */
function readOutcome(result: SandboxResult, what: string, timeoutMs: number, python: boolean): TargetOutcome {
  const failed = (error: string): TargetOutcome => ({ ok: false, error, latencyMs: result.durationMs, tokens: 0, costUsd: 0 });
  if (result.timedOut) return failed(`${what} ran past the ${Math.round(timeoutMs / 100) / 10} s deadline of one case and was killed`);
  if (result.spawnError) return failed(`${what} could not be started: ${result.spawnError}`);
  if (result.exitCode !== 0)
    return failed(`${what} exited with ${result.exitCode === null ? `signal ${result.signal}` : `code ${result.exitCode}`}${tail(result)}`);
  if (result.stdout.droppedBytes > 0)
    return failed(`${what} printed more than ${result.stdout.text.length} bytes on stdout; the output was cut, so it is not used`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout.text);
  } catch {
    const seen = result.stdout.text.trim().slice(0, 200);
    return failed(`${what} printed something other than one JSON value on stdout${seen ? `: ${JSON.stringify(seen)}` : ' (nothing)'}`);
  }
  if (!python) return { ok: true, output: parsed, latencyMs: result.durationMs, tokens: 0, costUsd: 0 };
  const { output, ms } = parsed as { output: unknown; ms: number };
  return { ok: true, output, latencyMs: Math.round(ms * 1000) / 1000, tokens: 0, costUsd: 0 };
}

/** Runs a command or python target once for one case, in the step's sandbox, with the case as JSON on stdin. */
export async function runSandboxedTarget(target: SandboxedTarget, evalCase: EvalCase, context: TargetContext): Promise<TargetOutcome> {
  const python = 'python' in target;
  const [command, ...args] = python ? [target.interpreter, '-B', '-c', PYTHON_SHIM, target.python] : target.command;
  const result = await context.sandbox.run({
    command: command!,
    args,
    repoDir: context.repoDir,
    ...(target.cwd !== undefined ? { cwd: target.cwd } : {}),
    outputDir: context.outputDir,
    env: context.env,
    timeoutMs: context.timeoutMs,
    maxOutputBytes: context.maxOutputBytes,
    stdin: caseForTarget(evalCase),
    ...(context.signal ? { signal: context.signal } : {}),
  });
  return readOutcome(result, python ? target.python : `\`${target.command.join(' ')}\``, context.timeoutMs, python);
}
