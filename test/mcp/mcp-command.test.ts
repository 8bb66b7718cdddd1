import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiToken } from '../../bot/api/api-tokens.js';
import { main } from '../../src/cli/main.js';
import { startInProcessMcp, structured } from '../support/mcp-stdio-client.js';
import { tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

let work: { dir: string; cleanup: () => Promise<void> };
let repo: TempGitRepo;
beforeAll(async () => {
  work = await tempDir('qf-mcp-command-');
  repo = await tempGitRepo('failing');
});
afterAll(async () => {
  await repo.cleanup();
  await work.cleanup();
});

async function qf(args: string[], withStreams = true) {
  const out = { stdout: '', stderr: '' };
  const { PassThrough } = await import('node:stream');
  const stdin = new PassThrough();
  stdin.end();
  const code = await main(args, {
    stdout: (text) => void (out.stdout += text),
    stderr: (text) => void (out.stderr += text),
    env: {},
    cwd: work.dir,
    ...(withStreams ? { streams: { stdin, stdout: new PassThrough() } } : {}),
  });
  return { code, ...out };
}

describe('qf mcp: its command line', () => {
  it('refuses flags that do not fit, with the usage (exit 2)', async () => {
    for (const [args, message] of [
      [['mcp', '--policy', 'p.yml'], '--policy, --policy-ref and --out need --repo DIR'],
      [['mcp', '--repo', repo.dir, '--policy', 'p.yml', '--policy-ref', 'main'], 'use either --policy FILE or --policy-ref REF, not both'],
      [['mcp', '--repo', repo.dir, '--max-runs-per-minute', '0'], '--max-runs-per-minute is "0"; expected a whole number of at least 1'],
      [['mcp', '--repo', path.join(work.dir, 'missing')], 'does not exist'],
    ] as const) {
      const result = await qf([...args, '--db', path.join(work.dir, 'flags.db')]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
    const noStreams = await qf(['mcp'], false);
    expect(noStreams.code).toBe(2);
    expect(noStreams.stderr).toContain('needs the process streams');
  });

  it('with QF_MCP_TOKEN but no QF_API_TOKENS_FILE, refuses every tool, saying why', async () => {
    const mcp = await startInProcessMcp(['--db', path.join(work.dir, 'token.db'), '--repo', repo.dir], { QF_MCP_TOKEN: 'some-token' });
    try {
      const result = await mcp.client.callTool({ name: 'run_pytest', arguments: {} });
      expect(structured(result)).toEqual({
        error: {
          code: 'unauthenticated',
          message: 'run_pytest needs an authenticated caller: QF_MCP_TOKEN is set but QF_API_TOKENS_FILE is not, so the token cannot be checked',
        },
      });
      await expect(mcp.client.readResource({ uri: 'qf://runs/x/evidence.json' })).rejects.toThrow(/unauthenticated/);
    } finally {
      await mcp.close();
    }
  });

  it('with a token of scope run only: may run, may not read', async () => {
    const runner = `qf-runner-${randomUUID()}`;
    const tokens = path.join(work.dir, 'tokens.yml');
    await writeFile(tokens, `- { name: ci-agent, sha256: ${hashApiToken(runner)}, scopes: [run] }\n`);
    const mcp = await startInProcessMcp(
      ['--db', path.join(work.dir, 'run-only.db'), '--repo', repo.dir, '--policy', path.join(repo.dir, '.github/qualityfoundry.yml')],
      {
        QF_MCP_TOKEN: runner,
        QF_API_TOKENS_FILE: tokens,
      },
    );
    try {
      const read = await mcp.client.callTool({ name: 'explain_metric', arguments: { metric: 'pytest.failed' } });
      expect(structured<{ error: { code: string } }>(read).error.code).toBe('forbidden');
      const run = structured<{ verdict: string; counts: { failed: number } }>(
        await mcp.client.callTool({ name: 'run_pytest', arguments: { keyword: 'total', markers: 'not slow' } }),
      );
      expect(run).toMatchObject({ verdict: 'fail', counts: { failed: 1 } });
    } finally {
      await mcp.close();
    }
  });
});
