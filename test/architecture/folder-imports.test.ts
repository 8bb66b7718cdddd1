import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOOL_CONTRACTS } from '../../src/policy/tool-contracts.js';
import { toolRegistry } from '../../src/tools/tool-registry.js';
import { REPO_ROOT } from '../support/temp-git-repo.js';
import { folderCycles, folderImports } from './folder-imports.js';

const SRC = path.join(REPO_ROOT, 'src');

describe('the import graph of src/', () => {
  it('has no two top-level folders that import each other, directly or round a loop', async () => {
    const imports = await folderImports(SRC);
    expect(imports.length).toBeGreaterThan(50); // it did read the tree
    const cycles = folderCycles(imports);
    // On failure, name the imports that close each loop.
    const closing = cycles.map((cycle) =>
      imports.filter((edge) => cycle.includes(edge.from) && cycle.includes(edge.to)).map((edge) => `${edge.file} → ${edge.to}/`),
    );
    expect(closing).toEqual([]);
  });

  it('lets policy/ (validating a policy) load no tool, sandbox, gate or orchestrator code', async () => {
    const fromPolicy = (await folderImports(SRC)).filter((edge) => edge.from === 'policy');
    expect([...new Set(fromPolicy.map((edge) => edge.to))]).toEqual(['util']);
  });

  it('has one tool definition per tool contract, each extending its contract', () => {
    expect([...toolRegistry.keys()].sort()).toEqual([...TOOL_CONTRACTS.keys()].sort());
    for (const [name, tool] of toolRegistry) expect(tool.input).toBe(TOOL_CONTRACTS.get(name)!.input);
  });
});

describe('the orchestrator', () => {
  it('names no tool: tools contribute their metric aggregation and version probes through ToolDefinition', async () => {
    const files = (await readdir(path.join(SRC, 'orchestrator'), { recursive: true })).filter((file) => file.endsWith('.ts'));
    const naming: string[] = [];
    for (const file of files) {
      const text = await readFile(path.join(SRC, 'orchestrator', file), 'utf8');
      for (const tool of toolRegistry.keys()) if (text.includes(tool) || text.includes(tool.replace('_', '-'))) naming.push(`${file}: ${tool}`);
      if (/pytestMetrics|junit/i.test(text)) naming.push(`${file}: pytest internals`);
    }
    expect(naming).toEqual([]);
  });
});

describe('folderCycles', () => {
  it('finds a two-folder cycle and a longer loop, and nothing in a layered graph', () => {
    const edge = (from: string, to: string) => ({ from, to, file: `${from}/x.ts` });
    expect(folderCycles([edge('a', 'b'), edge('b', 'a'), edge('c', 'a')])).toEqual([['a', 'b']]);
    expect(folderCycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('d', 'a')])).toEqual([['a', 'b', 'c']]);
    expect(folderCycles([edge('cli', 'policy'), edge('policy', 'util'), edge('cli', 'util')])).toEqual([]);
  });
});
