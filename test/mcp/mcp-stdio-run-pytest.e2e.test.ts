import { randomUUID } from 'node:crypto';
import { access, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiToken } from '../../bot/api/api-tokens.js';
import { openStore } from '../../src/store/index.js';
import { startStdioMcp, structured, type StdioMcp } from '../support/mcp-stdio-client.js';
import { runGit, tempDir, tempGitRepo, type TempGitRepo } from '../support/temp-git-repo.js';

const PROJECT = 'local/repo';
const cleanups: Array<() => Promise<void>> = [];
let work: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  work = await tempDir('qf-mcp-run-');
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await work.cleanup();
});

/** A copy of a fixture project, optionally with its committed policy (and other files) replaced. */
async function repoWith(fixture: string, files: Record<string, string> = {}): Promise<TempGitRepo> {
  const repo = await tempGitRepo(fixture);
  cleanups.push(repo.cleanup);
  if (Object.keys(files).length > 0) {
    for (const [file, content] of Object.entries(files)) await writeFile(path.join(repo.dir, file), content);
    await runGit(repo.dir, ['add', '-A']);
    await runGit(repo.dir, ['commit', '-q', '-m', 'change']);
  }
  return repo;
}

async function serve(repo: TempGitRepo, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<{ mcp: StdioMcp; db: string }> {
  const db = path.join(work.dir, `${randomUUID()}.db`);
  const mcp = await startStdioMcp(['--db', db, '--repo', repo.dir, ...extraArgs], env);
  cleanups.push(mcp.close);
  return { mcp, db };
}

async function auditOf(db: string, action: string) {
  const store = await openStore({ dbPath: db });
  try {
    return (await store.listAudit({ projectId: PROJECT })).filter((event) => event.action === action);
  } finally {
    await store.close();
  }
}

const text = (result: unknown): string => (result as { content: Array<{ text: string }> }).content[0]?.text ?? '';

/** Whether any process on the machine has `marker` on its command line (the pytest of one test). */
async function processWith(marker: string): Promise<boolean> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) return true;
  }
  return false;
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 100));
}

describe('run_pytest over stdio', () => {
  it('runs the policy’s tests like qf run: counts, failures at file:line, evidence, progress, recorded and audited', async () => {
    const repo = await repoWith('failing');
    const { mcp, db } = await serve(repo);
    const { tools } = await mcp.client.listTools();
    expect(tools.find((tool) => tool.name === 'run_pytest')?.annotations).toMatchObject({ readOnlyHint: false });

    const progress: string[] = [];
    const result = await mcp.client.callTool({ name: 'run_pytest', arguments: { paths: ['tests'] } }, undefined, {
      onprogress: (update) => void progress.push(update.message ?? ''),
    });
    const answer = structured<Record<string, any>>(result);
    expect(result.isError).toBeFalsy();
    expect(answer).toMatchObject({ verdict: 'fail', exitCode: 1, status: 'failed', counts: { total: 2, passed: 1, failed: 1 } });
    expect(answer.failures).toEqual([expect.objectContaining({ location: 'tests/test_totals.py:7', outcome: 'failed' })]);
    expect(answer.failedRules).toEqual([expect.objectContaining({ id: 'no-failures', observed: 1 })]);
    expect(progress[0]).toBe('mcp-run-pytest: pytest started');
    expect(progress.at(-1)).toMatch(/^mcp-run-pytest: failed in \d+\.\d s$/);

    // Evidence like qf run's, in the store and served as a resource.
    const evidence = JSON.parse(await readFile(answer.evidencePath, 'utf8'));
    expect(evidence.plan.steps).toEqual([
      expect.objectContaining({ id: 'mcp-run-pytest', tool: 'run_pytest', input: expect.objectContaining({ paths: ['tests'] }) }),
    ]);
    expect(evidence.policy.sourceRef).toBe('HEAD');
    const served = await mcp.client.readResource({ uri: answer.evidenceUri });
    expect(JSON.parse((served.contents[0] as { text: string }).text)).toEqual(evidence);
    const runs = structured<{ runs: Array<{ id: string; verdict: string }> }>(
      await mcp.client.callTool({ name: 'list_runs', arguments: { project: PROJECT } }),
    );
    expect(runs.runs).toEqual([expect.objectContaining({ id: answer.runId, verdict: 'fail' })]);
    const started = await auditOf(db, 'mcp.run_pytest.started');
    expect(started).toEqual([expect.objectContaining({ subject: answer.runId, actor: expect.stringMatching(/^user:/), data: { paths: ['tests'], args: [] } })]);
    expect(await auditOf(db, 'mcp.run_pytest.finished')).toEqual([expect.objectContaining({ subject: answer.runId, data: { verdict: 'fail' } })]);
  });

  it('refuses a path outside the repository, also through a link the change committed (policy), audited, and nothing runs', async () => {
    const repo = await repoWith('failing');
    const outside = await tempDir('qf-mcp-outside-');
    cleanups.push(outside.cleanup);
    await writeFile(path.join(outside.dir, 'test_elsewhere.py'), 'def test_elsewhere():\n    pass\n');
    await symlink(outside.dir, path.join(repo.dir, 'tests', 'escape'));
    await runGit(repo.dir, ['add', '-A']);
    await runGit(repo.dir, ['commit', '-q', '-m', 'a link out']);
    const { mcp, db } = await serve(repo);
    const result = await mcp.client.callTool({ name: 'run_pytest', arguments: { paths: ['../../etc'] } });
    expect(result.isError).toBe(true);
    expect(structured<{ error: { code: string } }>(result).error.code).toBe('policy_refused');
    expect(text(result)).toMatch(/^policy_refused: test path "\.\.\/\.\.\/etc" is outside the repository/);
    const linked = await mcp.client.callTool({ name: 'run_pytest', arguments: { paths: ['tests/escape/test_elsewhere.py'] } });
    expect(text(linked)).toMatch(/^policy_refused: test path "tests\/escape\/test_elsewhere.py" resolves to .*, outside the repository/);
    expect((await auditOf(db, 'mcp.refused')).map((event) => [event.subject, event.data.code])).toEqual([
      ['run_pytest', 'policy_refused'],
      ['run_pytest', 'policy_refused'],
    ]);
    expect(await auditOf(db, 'mcp.run_pytest.started')).toEqual([]);
  });

  it('refuses a "path" that pytest would read as an option (--basetemp=DIR would empty DIR)', async () => {
    const repo = await repoWith('failing');
    const victim = path.join(work.dir, `victim-${randomUUID()}`);
    await mkdir(victim);
    await writeFile(path.join(victim, 'keep.txt'), 'precious');
    const { mcp, db } = await serve(repo);
    for (const paths of [[`--basetemp=${victim}`], ['tests', `--basetemp=${path.relative(repo.dir, victim)}`]]) {
      const result = await mcp.client.callTool({ name: 'run_pytest', arguments: { paths } });
      expect(text(result)).toMatch(/^policy_refused: test path "--basetemp=.*" starts with "-": pytest would take it as an option/);
    }
    expect(await readFile(path.join(victim, 'keep.txt'), 'utf8')).toBe('precious');
    expect(await auditOf(db, 'mcp.run_pytest.started')).toEqual([]);
  });

  it('refuses when the committed policy does not allow run_pytest, whatever the work tree’s copy says', async () => {
    const denying = (await readFile(path.join((await repoWith('failing')).dir, '.github/qualityfoundry.yml'), 'utf8')).replace(
      'allowlist: [run_pytest]',
      'allowlist: [run_command]',
    );
    const repo = await repoWith('failing', { '.github/qualityfoundry.yml': denying.replace(/plan:[\s\S]*?gate:/, 'gate:') });
    // The agent edits the policy in the work tree to let itself in: that copy is not the policy.
    await writeFile(
      path.join(repo.dir, '.github/qualityfoundry.yml'),
      (await readFile(path.join(repo.dir, '.github/qualityfoundry.yml'), 'utf8')).replace('[run_command]', '[run_pytest]'),
    );
    const { mcp, db } = await serve(repo);
    const result = await mcp.client.callTool({ name: 'run_pytest', arguments: {} });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^policy_refused: run_pytest is not in the policy's tools.allowlist \(run_command\) in \.github\/qualityfoundry\.yml at HEAD/);
    expect((await auditOf(db, 'mcp.refused')).map((event) => event.data.code)).toEqual(['policy_refused']);
  });

  it('refuses when the policy asks for the container sandbox and no engine answers, audited by the run and by the server', async () => {
    const repo = await repoWith('failing');
    const policyFile = path.join(repo.dir, '.github/qualityfoundry.yml');
    await writeFile(
      policyFile,
      (await readFile(policyFile, 'utf8')).replace(
        'sandbox: { timeout_seconds: 60 }',
        'sandbox: { mode: container, timeout_seconds: 60, container: { image: "qualityfoundry/python-sandbox:bookworm" } }',
      ),
    );
    await runGit(repo.dir, ['commit', '-q', '-am', 'container sandbox']);
    const closedSocket = path.join(work.dir, 'no-engine.sock');
    const { mcp, db } = await serve(repo, [], { DOCKER_HOST: `unix://${closedSocket}` });
    const result = await mcp.client.callTool({ name: 'run_pytest', arguments: {} });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^sandbox_unavailable: /);
    expect(text(result)).toContain(`No Docker engine answers at ${closedSocket}`);
    expect((await auditOf(db, 'mcp.refused')).map((event) => event.data.code)).toEqual(['sandbox_unavailable']);
    expect(await auditOf(db, 'sandbox.unavailable')).toHaveLength(1);
  });

  it('ends the step’s processes when the client cancels, and refuses a second run while one is going', async () => {
    const marker = `test_slow_${randomUUID().replaceAll('-', '')}`;
    const repo = await repoWith('failing', {
      [`tests/${marker}.py`]: 'import pathlib, time\n\n\ndef test_waits():\n    pathlib.Path("started.txt").write_text("started")\n    time.sleep(600)\n',
    });
    const { mcp, db } = await serve(repo);
    const cancel = new AbortController();
    const running = mcp.client.callTool({ name: 'run_pytest', arguments: { paths: [`tests/${marker}.py`] } }, undefined, {
      signal: cancel.signal,
      timeout: 600_000,
    });
    running.catch(() => undefined);
    await until(() =>
      access(path.join(repo.dir, 'started.txt')).then(
        () => true,
        () => false,
      ),
    );
    expect(await processWith(marker)).toBe(true);

    const second = await mcp.client.callTool({ name: 'run_pytest', arguments: {} });
    expect(text(second)).toMatch(/^too_many_runs: user:\S+ already has 1 run going/);

    cancel.abort('the agent changed its mind');
    await expect(running).rejects.toThrow();
    await until(async () => !(await processWith(marker)));
    await until(async () => (await auditOf(db, 'mcp.run_pytest.finished')).length === 1);
    const [finished] = await auditOf(db, 'mcp.run_pytest.finished');
    expect(String(finished?.data.error)).toMatch(/^Run interrupted/);
    expect((await auditOf(db, 'mcp.refused')).map((event) => event.data.code)).toEqual(['too_many_runs']);
    // The server is still there, and free for the next run once the cancelled one has let go of its slot.
    let after = await mcp.client.callTool({ name: 'run_pytest', arguments: { paths: ['tests/test_totals.py'] } });
    while (text(after).startsWith('too_many_runs')) after = await mcp.client.callTool({ name: 'run_pytest', arguments: { paths: ['tests/test_totals.py'] } });
    expect(text(after)).toMatch(/"verdict": "fail"/);
  });

  it('authenticates a token from the environment: a wrong one is refused everything, one without `run` may read but not run', async () => {
    const repo = await repoWith('failing');
    const tokensFile = path.join(work.dir, `${randomUUID()}.tokens`);
    const reader = `qf-reader-${randomUUID()}`;
    await writeFile(tokensFile, `${JSON.stringify({ name: 'reader', sha256: hashApiToken(reader), scopes: ['read'] })}\n`);

    const wrong = await serve(repo, [], { QF_MCP_TOKEN: 'not-a-known-token', QF_API_TOKENS_FILE: tokensFile });
    const refused = await wrong.mcp.client.callTool({ name: 'run_pytest', arguments: {} });
    expect(text(refused)).toBe(
      'unauthenticated: run_pytest needs an authenticated caller: the token in QF_MCP_TOKEN is not valid (the Bearer token is not valid)',
    );
    expect(text(await wrong.mcp.client.callTool({ name: 'list_runs', arguments: { project: PROJECT } }))).toMatch(/^unauthenticated: list_runs/);
    expect((await auditOf(wrong.db, 'mcp.refused')).map((event) => [event.actor, event.subject, event.data.code])).toEqual([
      ['anonymous', 'run_pytest', 'unauthenticated'],
      ['anonymous', 'list_runs', 'unauthenticated'],
    ]);

    const readOnly = await serve(repo, [], { QF_MCP_TOKEN: reader, QF_API_TOKENS_FILE: tokensFile });
    const forbidden = await readOnly.mcp.client.callTool({ name: 'run_pytest', arguments: {} });
    expect(text(forbidden)).toBe('forbidden: token:reader may not call run_pytest: its scopes (read) do not include "run"');
    expect(structured<{ total: number }>(await readOnly.mcp.client.callTool({ name: 'list_runs', arguments: { project: PROJECT } })).total).toBe(0);
    expect((await auditOf(readOnly.db, 'mcp.refused')).map((event) => [event.actor, event.data.code])).toEqual([['token:reader', 'forbidden']]);
    expect(await auditOf(readOnly.db, 'mcp.run_pytest.started')).toEqual([]);
  });

  it('limits how many runs a caller starts per minute', async () => {
    const repo = await repoWith('failing');
    const { mcp } = await serve(repo, ['--max-runs-per-minute', '1']);
    const first = await mcp.client.callTool({ name: 'run_pytest', arguments: { paths: ['../outside'] } });
    expect(text(first)).toMatch(/^policy_refused/);
    const second = await mcp.client.callTool({ name: 'run_pytest', arguments: {} });
    expect(text(second)).toMatch(/^rate_limited: user:\S+ started 1 runs in the last 60 s \(at most 1\); retry in \d+ s/);
  });
});
