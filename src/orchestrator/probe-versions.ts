import { rm } from 'node:fs/promises';
import { createFreshFolder, PROBE_FOLDER } from '../evidence/output-folder.js';
import type { Plan } from '../planner/build-plan.js';
import type { Sandbox } from '../sandbox/types.js';
import type { ToolVersions } from '../tools/tool-definition.js';
import { findTool } from '../tools/tool-registry.js';

const UNKNOWN: ToolVersions = { python: null, pytest: null };

/** Versions for evidence when no step reported them: the first planned step whose tool has a version probe runs it in the sandbox. */
export async function probeVersions(
  plan: Plan,
  where: { sandbox: Sandbox; repoDir: string; outDir: string; env: Record<string, string> },
): Promise<ToolVersions> {
  for (const step of plan.steps) {
    const tool = findTool(step.tool);
    const input = tool?.versionProbe ? tool.input.safeParse(step.input) : undefined;
    if (!tool?.versionProbe || !input?.success) continue;
    const { command, args } = tool.versionProbe.command(input.data);
    const probeDir = await createFreshFolder(where.outDir, PROBE_FOLDER);
    const result = await where.sandbox
      .run({ command, args, repoDir: where.repoDir, outputDir: probeDir, env: where.env, timeoutMs: 30_000, maxOutputBytes: 4_096 })
      .catch(() => undefined);
    await rm(probeDir, { recursive: true, force: true });
    return result?.exitCode === 0 ? tool.versionProbe.parse(result.stdout.text) : UNKNOWN;
  }
  return UNKNOWN;
}
