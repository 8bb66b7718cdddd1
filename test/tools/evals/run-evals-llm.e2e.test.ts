import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { noApprovals } from '../../../src/cli/cli-approval-source.js';
import { orchestrate } from '../../../src/orchestrator/orchestrate.js';
import { parsePolicy } from '../../../src/policy/load-policy.js';
import { startFakeLlmServer, type FakeLlmServer, type ReceivedChat, type ScriptedAnswer } from '../../support/fake-llm-server.js';
import { runGit, tempDir } from '../../support/temp-git-repo.js';

// Every model call of run_evals goes out over real HTTP to a local OpenAI-compatible server that
// answers from a script and counts usage; nothing of ours is stubbed.

const API_KEY = 'test-key-value-0123456789';
let server: FakeLlmServer;
let script: (request: ReceivedChat, index: number) => ScriptedAnswer;
let work: { dir: string; cleanup: () => Promise<void> };
let repoDir: string;
let runs = 0;

const lastUser = (request: ReceivedChat) => request.body.messages.at(-1)!.content;
const isJudge = (request: ReceivedChat) => request.body.messages[0]!.content.startsWith('You grade an output against a rubric');

/** Capitals, and a judge that likes answers naming a city. */
const defaultScript = (request: ReceivedChat): ScriptedAnswer => {
  if (isJudge(request))
    return {
      content: lastUser(request).includes('Paris') ? '{"score": 0.9, "reason": "names the capital"}' : '{"score": 0.1, "reason": "wrong"}',
      promptTokens: 30,
      completionTokens: 10,
    };
  const question = lastUser(request);
  if (question.includes('France')) return { content: 'Paris', promptTokens: 12, completionTokens: 3 };
  return { content: 'I do not know', promptTokens: 12, completionTokens: 5 };
};

beforeAll(async () => {
  server = await startFakeLlmServer((request, index) => script(request, index));
  work = await tempDir();
  repoDir = path.join(work.dir, 'repo');
  await mkdir(path.join(repoDir, 'evals'), { recursive: true });
  await writeFile(path.join(repoDir, 'env.py'), 'import json, os, sys\njson.load(sys.stdin)\nprint(json.dumps(dict(os.environ)))\n');
  await writeFile(path.join(repoDir, 'README.md'), 'fixture\n');
  await runGit(repoDir, ['init', '-q']);
  await runGit(repoDir, ['add', '-A']);
  await runGit(repoDir, ['commit', '-q', '-m', 'fixture']);
});
afterAll(async () => {
  await server.close();
  await work.cleanup();
});
beforeEach(() => {
  script = defaultScript;
  server.received.length = 0;
});

function policy(extra = '', budget = 10_000, mode = 'strict') {
  return parsePolicy(
    `version: 1
mode: ${mode}
budget: { llm_tokens: ${budget} }
sandbox: { env_allowlist: [PATH, HOME, LLM_SETTING] }
tools: { allowlist: [run_evals] }
plan:
  - { id: evals, when: { always: true }, run: run_evals, with: { suites: [evals/*.yaml] } }
gateway:
  classify:
    - { when: { changed: ["secrets/**"] }, level: CRITICAL }
  providers:
    - { name: cloud, kind: cloud, base_url: "${server.baseUrl}", model: gpt-test, api_key_env: LLM_SETTING, usd_per_million_tokens: { prompt: 1000, completion: 2000 } }
${extra}`,
    { path: 'inline.yml', sourceRef: null },
  );
}

async function suites(files: Record<string, string>) {
  await rm(path.join(repoDir, 'evals'), { recursive: true, force: true });
  await mkdir(path.join(repoDir, 'evals'), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(repoDir, 'evals', name), text);
}

async function run(options: { policy?: ReturnType<typeof policy>; changed?: string[]; cacheDir?: string } = {}) {
  const outDir = path.join(work.dir, `out-${++runs}`);
  return orchestrate({
    repoDir,
    outDir,
    policy: options.policy ?? policy(),
    change: { base: null, head: null, changedFiles: options.changed ?? ['app.py'], labels: [] },
    approvals: noApprovals,
    // The runner's environment: the key is here, for the gateway alone.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LLM_SETTING: API_KEY },
    runId: `llm-${runs}`,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
}

const CAPITALS = `name: capitals
target:
  llm: { system: "Answer with the city only.", prompt: "What is the capital of {{country}}?", max_tokens: 20 }
cases:
  - { id: france, vars: { country: France }, expected: Paris, assert: [{ type: equals }, { type: tokens, max: 20 }, { type: cost-usd, max: 0.1 }] }
  - { id: peru, vars: { country: Peru }, expected: Lima, assert: [{ type: equals }] }
`;

describe('run_evals with llm targets and judges, through the SecureGateway', () => {
  it('calls the provider over HTTP with the key from the runner, fills the prompt, and counts tokens and cost', async () => {
    await suites({ 'capitals.yaml': CAPITALS });
    const { evidence } = await run();
    expect(server.received.map((request) => [request.headers.authorization, request.body])).toEqual([
      [
        `Bearer ${API_KEY}`,
        {
          model: 'gpt-test',
          max_tokens: 20,
          messages: [
            { role: 'system', content: 'Answer with the city only.' },
            { role: 'user', content: 'What is the capital of France?' },
          ],
        },
      ],
      [`Bearer ${API_KEY}`, expect.objectContaining({ messages: [expect.anything(), { role: 'user', content: 'What is the capital of Peru?' }] })],
    ]);
    expect(evidence.metrics).toMatchObject({
      'evals.total': 2,
      'evals.passed': 1,
      'evals.tokens': 32,
      'evals.cost_usd': 0.04,
      'evals.capitals.pass_rate': 0.5,
    });
    expect(evidence.steps[0]!.evals!.cases).toMatchObject([
      { id: 'peru', status: 'failed', output: 'I do not know', failures: ['equals: expected "Lima", got "I do not know"'], tokens: 17 },
    ]);
    expect(evidence.audit.filter((event) => event.action === 'gateway.completed').map((event) => event.data.usage)).toEqual([
      { promptTokens: 12, completionTokens: 3 },
      { promptTokens: 12, completionTokens: 5 },
    ]);
    // The key is nowhere in the evidence.
    expect(JSON.stringify(evidence)).not.toContain(API_KEY);
  });

  it('never lets the API key reach the sandbox, even when the allowlist names its variable', async () => {
    await suites({
      'env.yaml': 'name: env\ntarget: { command: [python3, env.py] }\ncases: [{ id: env, input: 1, assert: [{ type: not-contains, value: test-key }] }]\n',
    });
    const { evidence } = await run();
    expect(evidence.steps[0]!.evals!.suites[0]).toMatchObject({ passed: 1, total: 1 });
    expect(evidence.metrics['evals.passed']).toBe(1);
  });

  it('scores outputs with an llm-rubric judge and fails the assertion on a garbled judgement', async () => {
    await suites({
      'judged.yaml': `name: judged
target: { llm: { prompt: "What is the capital of {{input}}?" } }
cases:
  - { id: france, input: France, assert: [{ type: llm-rubric, rubric: "Names the capital city", threshold: 0.8 }] }
  - { id: peru, input: Peru, assert: [{ type: llm-rubric, rubric: "Names the capital city", threshold: 0.8 }] }
  - { id: garbled, input: Garbled, assert: [{ type: llm-rubric, rubric: "Names the capital city" }] }
`,
    });
    script = (request) => (isJudge(request) && lastUser(request).includes('Garbled') ? { content: 'I think it is fine' } : defaultScript(request));
    const { evidence } = await run();
    const judgeRequest = server.received.find((request) => isJudge(request) && lastUser(request).includes('France'))!;
    expect(judgeRequest.body.temperature).toBe(0);
    expect(lastUser(judgeRequest)).toBe('Rubric:\nNames the capital city\n\nInput:\nFrance\n\nOutput:\nParis');
    expect(evidence.steps[0]!.evals!.cases.map((entry) => [entry.id, entry.status, entry.failures])).toEqual([
      ['garbled', 'failed', ['llm-rubric: the judge answered something other than {"score": 0–1, "reason": …}: "I think it is fine"']],
      ['peru', 'failed', ['llm-rubric: judge scored 0.1 < 0.8: wrong']],
    ]);
    // Targets and judges both count: 3 answers of 15 or 17 tokens, 3 judgements of 40 (the garbled one 15).
    expect(evidence.metrics['evals.tokens']).toBe(15 + 17 + 17 + 40 + 40 + 15);
  });

  it('vetoes a task the routing policy does not allow, records it in evidence and the audit chain, and blocks in strict mode', async () => {
    await suites({ 'capitals.yaml': CAPITALS });
    const { evidence } = await run({ changed: ['secrets/prod.env'] });
    expect(server.received).toEqual([]); // a vetoed task never reaches any provider
    expect(evidence.steps[0]!.evals!.cases.map((entry) => [entry.id, entry.status])).toEqual([
      ['france', 'vetoed'],
      ['peru', 'vetoed'],
    ]);
    const message = 'no configured provider may take a CRITICAL task under the default routing policy (allowed kinds: local)';
    expect(evidence.steps[0]!.evals!.cases[0]!.failures).toEqual([`vetoed by the SecureGateway (NO_ALLOWED_PROVIDER): ${message}`]);
    expect(evidence.governance.vetoes).toEqual([
      { code: 'NO_ALLOWED_PROVIDER', level: 'CRITICAL', message, taskId: 'eval:capitals/france' },
      { code: 'NO_ALLOWED_PROVIDER', level: 'CRITICAL', message, taskId: 'eval:capitals/peru' },
    ]);
    expect(evidence.audit.filter((event) => event.action === 'gateway.veto').map((event) => event.subject)).toEqual([
      'eval:capitals/france',
      'eval:capitals/peru',
    ]);
    expect(evidence.metrics).toMatchObject({ 'governance.vetoes': 2, 'evals.vetoed': 2, 'evals.pass_rate': 0 });
    expect(evidence.gate.verdict).toBe('blocked');
    expect(evidence.gate.reasons).toContain(`The SecureGateway vetoed eval:capitals/france: ${message}`);
  });

  it('stops calling models once budget.llm_tokens is spent, skips the rest, records it and blocks the run', async () => {
    await suites({
      'many.yaml': `name: many
target: { llm: { prompt: "What is the capital of {{input}}?" } }
cases:
  - { id: a, input: France }
  - { id: b, input: Spain, repeat: 3 }
  - { id: c, input: Italy }
  - { id: d, input: Chile }
`,
    });
    const { evidence } = await run({ policy: policy('', 40) });
    // France costs 15 tokens, the others 17: a (15), b twice (49 ≥ 40); b's third run is refused, and nothing more goes out.
    expect(server.received).toHaveLength(3);
    expect(evidence.steps[0]!.evals!.cases.map((entry) => [entry.id, entry.status, entry.failures[0]])).toEqual([
      ['b', 'skipped', "skipped: the run's budget.llm_tokens of 40 is spent (49 used)"],
      ['c', 'skipped', "skipped: the run's budget.llm_tokens is spent"],
      ['d', 'skipped', "skipped: the run's budget.llm_tokens is spent"],
    ]);
    expect(evidence.audit.filter((event) => event.action === 'gateway.budget_spent').map((event) => [event.subject, event.data])).toEqual([
      ['eval:many/b', { limit: 40, spent: 49 }],
    ]);
    const reason = "the run's budget.llm_tokens of 40 is spent: 3 eval cases that call a model were skipped (step evals)";
    expect(evidence.governance.shortCircuit).toEqual({ reason, atStep: 'evals', kind: 'budget' });
    expect(evidence.audit.filter((event) => event.action === 'run.short_circuit').map((event) => event.data)).toEqual([
      { reason, atStep: 'evals', kind: 'budget' },
    ]);
    expect(evidence.gate).toMatchObject({ verdict: 'blocked', reasons: expect.arrayContaining([`Run stopped early: ${reason}`]) });
    expect(evidence.metrics).toMatchObject({ 'evals.skipped': 3, 'evals.passed': 1, 'evals.tokens': 49 });
  });

  it('refuses every model call when budget.llm_tokens is 0, the default', async () => {
    await suites({ 'capitals.yaml': CAPITALS });
    const { evidence } = await run({ policy: policy('', 0) });
    expect(server.received).toEqual([]);
    expect(evidence.steps[0]!.evals!.cases.map((entry) => [entry.id, entry.status, entry.failures[0]])).toEqual([
      ['france', 'skipped', "skipped: the run's budget.llm_tokens is spent"],
      ['peru', 'skipped', "skipped: the run's budget.llm_tokens is spent"],
    ]);
    expect(evidence.gate.verdict).toBe('blocked');
  });

  it('retries 429 and 5xx answers, and reports a provider that keeps failing or answers garbage as an error of the case', async () => {
    await suites({ 'capitals.yaml': CAPITALS });
    script = (request, index) => {
      if (lastUser(request).includes('France'))
        return index < 2 ? { status: index === 0 ? 429 : 503, body: '{"error":"busy"}', headers: { 'retry-after': '0' } } : defaultScript(request);
      return { status: 500, body: 'oops' };
    };
    const { evidence } = await run();
    // France: 429, 503, then an answer; Peru: 500 three times.
    expect(server.received.map((request) => lastUser(request).split(' ').at(-1))).toEqual(['France?', 'France?', 'France?', 'Peru?', 'Peru?', 'Peru?']);
    expect(evidence.steps[0]!.evals!.cases.map((entry) => [entry.id, entry.status, entry.failures[0]])).toEqual([
      ['peru', 'error', `LLM provider 'cloud' at ${server.baseUrl}/chat/completions answered HTTP 500: oops (after 3 attempts)`],
    ]);

    script = () => ({ status: 200, body: '<html>not json</html>' });
    const garbage = await run();
    expect(garbage.evidence.steps[0]!.evals!.cases[0]!.failures).toEqual([
      `LLM provider 'cloud' at ${server.baseUrl}/chat/completions answered with something other than JSON: "<html>not json</html>"`,
    ]);
  });

  it('gives up on a provider that does not answer within the case deadline', async () => {
    await suites({ 'slow.yaml': 'name: slow\ntimeout_seconds: 1\ntarget: { llm: { prompt: "{{input}}" } }\ncases: [{ id: a, input: hello }]\n' });
    script = () => ({ hang: true });
    const { evidence } = await run();
    expect(evidence.steps[0]!.evals!.cases[0]!.failures).toEqual([
      `LLM provider 'cloud' at ${server.baseUrl}/chat/completions did not answer within 1 s (after 3 attempts)`,
    ]);
  });

  it('answers a request made before from the response cache, unless the suite opts out', async () => {
    const { dir: cacheDir, cleanup } = await tempDir('qf-cache-');
    try {
      await suites({ 'capitals.yaml': CAPITALS });
      await run({ cacheDir });
      expect(server.received).toHaveLength(2);
      const again = await run({ cacheDir });
      expect(server.received).toHaveLength(2); // nothing paid twice
      expect(again.evidence.metrics).toMatchObject({ 'evals.passed': 1, 'evals.tokens': 32 });
      expect(again.evidence.audit.filter((event) => event.action === 'gateway.cache_hit')).toHaveLength(2);

      await suites({ 'capitals.yaml': `${CAPITALS}cache: false\n` });
      await run({ cacheDir });
      expect(server.received).toHaveLength(4);
    } finally {
      await cleanup();
    }
  });
});
