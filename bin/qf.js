#!/usr/bin/env node
// The `qf` command: the CLI bundled in dist/ (built by scripts/build-dist.mjs, committed).
import '../dist/cli.js';
