import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-chain.js';
import { SecureGateway } from '../../src/governance/index.js';
import { GatewaySchema, type GatewayPolicy } from '../../src/policy/schema.js';

/** One local HTTP server plays both providers and records every request that reaches it. */
let server: Server;
let base = '';
const received: Array<{ provider: string; body: { model: string; messages: Array<{ content: string }> } }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const provider = req.url?.split('/')[1] ?? '?';
      received.push({ provider, body: JSON.parse(body) });
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          choices: [{ message: { role: 'assistant', content: `answer from ${provider}` } }],
          usage: { prompt_tokens: 7, completion_tokens: 3 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
});

function gateway(routing: GatewayPolicy['routing'] = 'default', providers?: Array<'local' | 'cloud'>) {
  const policy = GatewaySchema.parse({
    routing,
    classify: [
      { when: { changed: ['secrets/**', '**/*.pem'] }, level: 'CRITICAL' },
      { when: { labels: ['internal'] }, level: 'INTERNAL' },
      { when: { changed: ['billing/**'], labels: ['pii'] }, level: 'SENSITIVE' },
    ],
    providers: (providers ?? ['local', 'cloud']).map((kind) => ({ name: `${kind}-llm`, kind, base_url: `${base}/${kind}/v1`, model: `${kind}-model` })),
  });
  const trail = new AuditTrail(() => new Date('2025-01-01T00:00:00Z'));
  return { gw: new SecureGateway({ policy, audit: (e) => trail.record(e) }), trail };
}

const ask = (over: Record<string, unknown> = {}) => ({
  id: 'task-1',
  purpose: 'summarise failures',
  messages: [{ role: 'user' as const, content: 'why did test_x fail?' }],
  ...over,
});

describe('SecureGateway', () => {
  it('sends a PUBLIC task to the recommended cloud provider and audits the route', async () => {
    const { gw, trail } = gateway();
    const result = await gw.complete(ask({ changedFiles: ['src/app.py'] }));
    expect(result).toEqual({
      ok: true,
      level: 'PUBLIC',
      provider: 'cloud-llm',
      content: 'answer from cloud',
      usage: { promptTokens: 7, completionTokens: 3 },
      cached: false,
      costUsd: 0,
    });
    expect(received).toEqual([{ provider: 'cloud', body: { model: 'cloud-model', messages: [{ role: 'user', content: 'why did test_x fail?' }] } }]);
    expect(trail.events.map((e) => e.action)).toEqual(['gateway.routed', 'gateway.allowed', 'gateway.completed']);
  });

  it('never sends a CRITICAL task to the cloud, even when asked to, and audits the veto', async () => {
    const { gw, trail } = gateway();
    const vetoed = await gw.complete(ask({ changedFiles: ['secrets/prod.env'], provider: 'cloud-llm' }));
    expect(vetoed).toEqual({
      ok: false,
      level: 'CRITICAL',
      veto: {
        code: 'PROVIDER_NOT_ALLOWED',
        level: 'CRITICAL',
        provider: 'cloud-llm',
        message: "CRITICAL task may not go to cloud provider 'cloud-llm' under the default routing policy (allowed: local)",
      },
    });
    expect(trail.events[0]).toMatchObject({
      actor: 'gateway',
      action: 'gateway.veto',
      subject: 'task-1',
      data: { level: 'CRITICAL', reasons: ['rule 1 (changed secrets/**, **/*.pem) → CRITICAL'] },
    });

    const routed = await gw.complete(ask({ changedFiles: ['deploy/key.pem'], labels: ['internal'] }));
    expect(routed).toMatchObject({ ok: true, level: 'CRITICAL', provider: 'local-llm' });
    expect(received.map((r) => r.provider)).toEqual(['local']);
  });

  it('vetoes a CRITICAL task outright when only cloud providers exist', async () => {
    const { gw } = gateway('default', ['cloud']);
    const result = await gw.complete(ask({ level: 'CRITICAL' }));
    expect(result).toMatchObject({ ok: false, veto: { code: 'NO_ALLOWED_PROVIDER' } });
    expect(received).toEqual([]);
  });

  it('lets rules raise but never lower an explicit level, and routes by the chosen policy', async () => {
    const { gw } = gateway('compliance');
    expect((await gw.enforce({ id: 't', labels: ['internal'], level: 'PUBLIC', provider: 'cloud-llm' })).allowed).toBe(false);
    expect(await gw.enforce({ id: 't', level: 'SENSITIVE', labels: ['internal'] })).toMatchObject({
      allowed: true,
      level: 'SENSITIVE',
      provider: { name: 'local-llm' },
    });
    const enterprise = gateway('enterprise').gw;
    expect(await enterprise.enforce({ id: 't', changedFiles: ['billing/a.py'], labels: ['pii'], provider: 'cloud-llm' })).toMatchObject({
      allowed: true,
      level: 'SENSITIVE',
    });
    expect(await gateway('default').gw.enforce({ id: 't', changedFiles: ['billing/a.py'], provider: 'cloud-llm' })).toMatchObject({
      allowed: true,
      level: 'PUBLIC',
    });
    expect(await gateway().gw.enforce({ id: 't', provider: 'gpt-x' })).toMatchObject({ allowed: false, veto: { code: 'UNKNOWN_PROVIDER' } });
  });

  it('runs node, message and transition veto hooks, audits them, and sends nothing vetoed', async () => {
    const { gw, trail } = gateway();
    gw.addVetoHook({
      name: 'no-keys',
      on: 'message',
      check: ({ message }) => (message?.content.includes('PRIVATE KEY') ? 'the message holds a private key' : undefined),
    });
    gw.addVetoHook({ name: 'no-deploy', on: 'node', check: ({ node }) => (node === 'deploy' ? 'deploy is not a quality gate step' : undefined) });
    gw.addVetoHook({ name: 'no-skip-judge', on: 'transition', check: ({ from, to }) => (from === 'execute' && to === 'done' ? 'judge must run' : undefined) });

    const result = await gw.complete(ask({ messages: [{ role: 'user', content: '-----BEGIN PRIVATE KEY----- abc' }] }));
    expect(result).toMatchObject({
      ok: false,
      veto: { code: 'MESSAGE_VETOED', hook: 'no-keys', message: 'no-keys vetoed a user message: the message holds a private key' },
    });
    expect(received).toEqual([]);
    expect(await gw.checkNode('deploy')).toMatchObject({ code: 'NODE_VETOED', hook: 'no-deploy' });
    expect(await gw.checkNode('judge')).toBeUndefined();
    expect(await gw.checkTransition('execute', 'done')).toMatchObject({
      code: 'TRANSITION_VETOED',
      message: 'no-skip-judge vetoed transition execute → done: judge must run',
    });
    expect(trail.events.map((e) => e.action)).toEqual(['gateway.routed', 'gateway.veto', 'gateway.veto', 'gateway.allowed', 'gateway.veto']);
  });
});
