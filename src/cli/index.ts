import { startWarmPytest } from './warm-start.js';

// The entry point: the only place the CLI reads the process. A first Ctrl-C stops the run and
// still writes its evidence (marked incomplete); a second one exits at once.
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort(signal);
  });
}

const argv = process.argv.slice(2);
// Started, and awaited, before the rest of the CLI is even loaded: that loading is part of what it
// overlaps, and while modules load the setup's callbacks would wait.
const warmPytest = argv[0] === 'run' ? await startWarmPytest(argv.slice(1), process.env, process.cwd()) : undefined;
const { main } = await import('./main.js');
try {
  process.exitCode = await main(argv, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    signal: interrupt.signal,
    ...(warmPytest ? { warmPytest } : {}),
  });
} finally {
  await warmPytest?.discard();
}
