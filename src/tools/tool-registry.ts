import { runEvalsTool } from './evals/run-evals.js';
import { runCommandTool } from './run-command.js';
import { runPytestTool } from './run-pytest.js';
import type { ToolDefinition } from './tool-definition.js';

/** Every tool QualityFoundry knows. A policy's allowlist picks from these. */
export const toolRegistry: ReadonlyMap<string, ToolDefinition<never>> = new Map<string, ToolDefinition<never>>(
  [runPytestTool, runCommandTool, runEvalsTool].map((tool) => [tool.name, tool as ToolDefinition<never>]),
);

export function findTool(name: string): ToolDefinition<unknown> | undefined {
  return toolRegistry.get(name) as ToolDefinition<unknown> | undefined;
}
