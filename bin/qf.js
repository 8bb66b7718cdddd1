#!/usr/bin/env node
// The `qf` command, bundled in dist/ (built by scripts/build-dist.mjs, committed). CommonJS (see
// package.json here): Node runs it ~5 ms sooner than an ES module, and its first line starts what
// `qf run` must start first, pytest's Python (src/cli/early-start.ts). Then the CLI loads.
require('../dist/early-start.cjs');
import('../dist/cli.js');
