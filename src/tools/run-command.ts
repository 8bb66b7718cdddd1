import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../evidence/output-folder.js';
import type { StepResult } from '../evidence/schema.js';
import { RUN_COMMAND_CONTRACT, type RunCommandInput } from '../policy/tool-contracts.js';
import { confineStepPaths } from './confine-step-paths.js';
import type { ToolContext, ToolDefinition, ToolRun } from './tool-definition.js';

const OUTPUT_TAIL_LINES = 40;

async function runNamedCommand(input: RunCommandInput, context: ToolContext): Promise<ToolRun> {
  const argv = context.commands[input.command];
  if (!argv || argv.length === 0) {
    return { status: 'refused', reason: `Command "${input.command}" is not listed under tools.commands in the policy.`, metrics: {}, artifacts: [] };
  }
  const [command, ...args] = argv as [string, ...string[]];
  const outside = await confineStepPaths(context.repoDir, input.cwd);
  if (outside !== undefined) return { status: 'refused', reason: outside, metrics: {}, artifacts: [] };
  await mkdir(context.stepDir, { recursive: true });
  const result = await context.sandbox.run({
    command,
    args,
    repoDir: context.repoDir,
    ...(input.cwd !== undefined ? { cwd: input.cwd } : {}),
    outputDir: context.stepDir,
    env: context.env,
    timeoutMs: context.timeoutMs,
    maxOutputBytes: context.maxOutputBytes,
    ...(context.onOutput ? { onOutput: context.onOutput } : {}),
    ...(context.signal ? { signal: context.signal } : {}),
  });
  const logPath = path.join(context.stepDir, 'output.log');
  // The command may have planted a link at output.log: replace the name, never write through it.
  await writeFileAtomic(logPath, `$ ${argv.join(' ')}\n${result.stdout.text}${result.stderr.text ? `\n--- stderr ---\n${result.stderr.text}` : ''}`);

  const exitCode = result.exitCode ?? -1;
  const metrics = { [`command.${input.command}.exit_code`]: exitCode, 'command.failed': exitCode === 0 ? 0 : 1 };
  const base = { sandbox: result, metrics, artifacts: [logPath] };
  if (result.timedOut) return { ...base, status: 'timed_out', reason: `"${input.command}" ran past the deadline and was killed.` };
  if (result.spawnError) return { ...base, status: 'error', reason: `"${input.command}" could not be started: ${result.spawnError}` };
  if (exitCode === 0) return { ...base, status: 'passed' };
  const tail = (result.stderr.text || result.stdout.text).trim().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
  return { ...base, status: 'failed', reason: `"${input.command}" exited with code ${result.exitCode ?? result.signal}.${tail ? `\n${tail}` : ''}` };
}

/** Each command's exit code as it is; `command.failed` counts the commands that failed. */
function aggregateCommandMetrics(steps: readonly StepResult[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  let failed: number | undefined;
  for (const step of steps) {
    for (const [name, value] of Object.entries(step.metrics)) {
      if (name === 'command.failed') failed = (failed ?? 0) + value;
      else if (name.startsWith('command.')) metrics[name] = value;
    }
  }
  return failed === undefined ? metrics : { ...metrics, 'command.failed': failed };
}

export const runCommandTool: ToolDefinition<RunCommandInput> = {
  ...RUN_COMMAND_CONTRACT,
  run: runNamedCommand,
  aggregateMetrics: aggregateCommandMetrics,
};
