import path from 'node:path';
import { build, stop } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/temp-git-repo.js';

// esbuild's build runs in a service process it keeps for later builds: end it with the file.
afterAll(() => stop());

describe('the Action bundle', () => {
  it('holds neither the MCP server nor its SDK (they are for the CLI and the bot)', async () => {
    const result = await build({
      entryPoints: [path.join(REPO_ROOT, 'src/action/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      splitting: true,
      outdir: path.join(REPO_ROOT, 'dist-never-written'),
      external: ['*.node'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.length).toBeGreaterThan(100); // it did bundle the Action
    expect(inputs.filter((input) => input.includes('@modelcontextprotocol') || input.startsWith('src/mcp/'))).toEqual([]);
  });
});
