import type { ProgressEvent } from '../orchestrator/types.js';
import { PytestProgress } from '../tools/pytest-progress.js';
import type { CliIo } from './cli-io.js';

/** How often a running step reports on a log (stderr not a terminal). */
export const PROGRESS_INTERVAL_MS = 10_000;
/** How often the terminal's status line is redrawn. */
const STATUS_REFRESH_MS = 1_000;
/** Return to the line's start and erase it. */
const CLEAR_LINE = '\r\x1b[2K';

export interface ProgressReporter {
  onEvent: (event: ProgressEvent) => void;
  /** Stops the timer and clears the status line; call when the run ends, however it ends. */
  stop: () => void;
}

interface RunningStep {
  id: string;
  tool: string;
  started: number;
  /** Tests finished so far, from pytest's output; only for pytest steps. */
  tests?: PytestProgress;
}

/**
 * What `qf run` prints on stderr while steps run. The report comes from a timer, not from the
 * step's output, so a test that is silent for minutes is still reported. On a terminal it is one
 * status line (step, elapsed time, tests done so far) rewritten in place; on a log, a line every
 * `progressIntervalMs`.
 */
export function progressReporter(io: Pick<CliIo, 'stderr' | 'isTTY' | 'progressIntervalMs'>): ProgressReporter {
  let running: RunningStep | undefined;
  let statusShown = false;
  const describe = (step: RunningStep) => {
    const seconds = Math.round((performance.now() - step.started) / 1000);
    const tests = step.tests ? `, ${step.tests.testsDone} tests done` : '';
    return `${step.id} running, ${seconds} s${tests}`;
  };
  const clearStatus = () => {
    if (statusShown) io.stderr(CLEAR_LINE);
    statusShown = false;
  };
  const tick = () => {
    if (!running) return;
    if (io.isTTY) {
      io.stderr(`${CLEAR_LINE}… ${describe(running)}`);
      statusShown = true;
    } else {
      io.stderr(`  … ${describe(running)}\n`);
    }
  };
  const timer = setInterval(
    tick,
    io.isTTY ? Math.min(STATUS_REFRESH_MS, io.progressIntervalMs ?? STATUS_REFRESH_MS) : (io.progressIntervalMs ?? PROGRESS_INTERVAL_MS),
  );
  timer.unref(); // never what keeps the process alive

  return {
    onEvent(event) {
      if (event.kind === 'step-started') {
        clearStatus();
        running = { id: event.stepId, tool: event.tool, started: performance.now(), ...(event.tool === 'run_pytest' ? { tests: new PytestProgress() } : {}) };
        io.stderr(`▶ ${event.stepId} (${event.tool})${event.attempt > 1 ? `, attempt ${event.attempt}` : ''}\n`);
        if (io.isTTY) tick();
      } else if (event.kind === 'step-output') {
        if (event.stream === 'stdout' && running?.id === event.stepId) running.tests?.onStdout(event.chunk);
      } else if (event.kind === 'step-finished') {
        clearStatus();
        running = undefined;
        io.stderr(`${event.status === 'passed' ? '✔' : '✗'} ${event.stepId} ${event.status} in ${(event.durationMs / 1000).toFixed(1)} s\n`);
      }
    },
    stop() {
      clearInterval(timer);
      clearStatus();
      running = undefined;
    },
  };
}
