import { build, stop } from 'esbuild';
import { afterAll, expect, it } from 'vitest';

// esbuild's build runs in a service process it keeps for later builds: end it with the file.
afterAll(() => stop());

it('the bot imports nothing of @actions/* (only the Action touches the runner toolkit)', async () => {
  const result = await build({
    entryPoints: [new URL('../../bot/main.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    // Native and optional modules (sqlite3, ssh2's crypto under dockerode) need not resolve to see the import graph.
    external: ['sqlite3', 'pg-native', 'ioredis', 'pino-pretty', '@sentry/node', '*.node'],
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.some((path) => path.includes('node_modules/probot/'))).toBe(true);
  expect(inputs.filter((path) => path.includes('node_modules/@actions/'))).toEqual([]);
  expect(inputs.filter((path) => path.startsWith('src/action/'))).toEqual([]);
});
