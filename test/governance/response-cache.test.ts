import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-chain.js';
import { fileResponseCache } from '../../src/governance/gateway/response-cache.js';
import { SecureGateway } from '../../src/governance/index.js';
import { GatewaySchema } from '../../src/policy/schema.js';
import { startFakeLlmServer, type FakeLlmServer } from '../support/fake-llm-server.js';
import { tempDir } from '../support/temp-git-repo.js';

let server: FakeLlmServer;
let work: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  server = await startFakeLlmServer(() => ({ content: 'fresh answer', promptTokens: 4, completionTokens: 2 }));
  work = await tempDir();
});
afterAll(async () => {
  await server.close();
  await work.cleanup();
});

function gateway(cacheDir: string, env: Record<string, string> = { KEY_VAR: 'k' }) {
  const policy = GatewaySchema.parse({ providers: [{ name: 'p', kind: 'local', base_url: server.baseUrl, model: 'm', api_key_env: 'KEY_VAR' }] });
  const trail = new AuditTrail(() => new Date('2026-01-01T00:00:00Z'));
  return new SecureGateway({ policy, audit: (event) => trail.record(event), env, cache: fileResponseCache(cacheDir) });
}
const task = { id: 't', purpose: 'test', messages: [{ role: 'user' as const, content: 'hello' }] };

describe('the file response cache', () => {
  it('answers the same request from disk, and treats a damaged entry as a miss', async () => {
    const dir = path.join(work.dir, 'cache');
    expect(await gateway(dir).complete(task)).toMatchObject({ ok: true, content: 'fresh answer', cached: false });
    expect(await gateway(dir).complete(task)).toMatchObject({
      ok: true,
      content: 'fresh answer',
      cached: true,
      usage: { promptTokens: 4, completionTokens: 2 },
    });
    expect(server.received).toHaveLength(1);
    const [entry] = await readdir(dir);
    await writeFile(path.join(dir, entry!), '{"content": 3}');
    expect(await gateway(dir).complete(task)).toMatchObject({ ok: true, cached: false });
    expect(server.received).toHaveLength(2);
  });

  it("refuses to call a provider whose API key the runner's environment lacks", async () => {
    await expect(gateway(path.join(work.dir, 'other'), {}).complete(task)).rejects.toThrow(
      "LLM provider 'p' needs its API key in KEY_VAR, which the runner's environment does not have",
    );
  });
});
