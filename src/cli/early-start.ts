import { startWarmPytest } from './warm-start.js';

/**
 * The first code `qf` runs. bin/qf.js requires it, bundled alone as CommonJS
 * (dist/early-start.cjs), before it loads the CLI: Node reaches a CommonJS file's first line ~10 ms
 * sooner than an ES module graph's, and for `qf run` that makes pytest's Python start ~10 ms sooner
 * (see warm-start.ts). The CLI imports this same module and takes the Python from it.
 */
const [command, ...rest] = process.argv.slice(2);

export const warmPytest = command === 'run' ? startWarmPytest(rest, process.env, process.cwd()) : undefined;
