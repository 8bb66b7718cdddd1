// Bundles each entry point into ESM under dist/. CI rebuilds and fails on any difference.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Start empty: esbuild never deletes outputs, and a stale chunk would go unnoticed in the commit.
await rm('dist', { recursive: true, force: true });

const COMMON = {
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
  // Code reached only through a dynamic import (the container sandbox with dockerode, the artifact
  // client, the store) goes to separate chunks that load when first used, so a run starts by
  // parsing only what every run needs.
  splitting: true,
  // Some bundled CommonJS dependencies call require() for Node built-ins; ESM has none, so give it one.
  banner: { js: "import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);" },
};

// The Action: self-contained, it runs without node_modules. Native addons cannot be bundled; the
// only ones reachable (ssh2's, via dockerode) are optional and loaded inside try/catch, so leaving
// them out only drops ssh2's faster ciphers (unused: Docker is reached over its local socket).
await build({ ...COMMON, entryPoints: [{ in: 'src/action/index.ts', out: 'index' }], chunkNames: 'chunks/[name]-[hash]', external: ['*.node'] });

// The `qf` CLI (bin/qf.js). It runs from an installed package, so the store's drivers stay in
// node_modules (sqlite3 is a native addon, pg loads optional modules at run time, dockerode pulls in
// gRPC and ssh2, the MCP SDK its HTTP stacks): the bundle stays small and a subprocess run never loads them.
await build({
  ...COMMON,
  entryPoints: [{ in: 'src/cli/index.ts', out: 'cli' }],
  chunkNames: 'chunks/cli-[name]-[hash]',
  external: ['*.node', 'sqlite3', 'pg', 'pg-native', 'dockerode', '@modelcontextprotocol/sdk'],
});
