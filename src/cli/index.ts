import { ExitCode } from '../constants.js';
import { main } from './main.js';

// The entry point: the only place the CLI reads the process. A first Ctrl-C stops the run and
// still writes its evidence (marked incomplete); a second one exits at once.
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(ExitCode.interrupted);
    interrupt.abort(signal);
  });
}

const argv = process.argv.slice(2);
process.exitCode = await main(argv, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  signal: interrupt.signal,
  streams: { stdin: process.stdin, stdout: process.stdout },
  isTTY: process.stderr.isTTY === true,
});
