import { access, constants as fsConstants } from 'node:fs/promises';
import { execa } from 'execa';

/**
 * How the subprocess sandbox keeps tested code away from qf's own processes. Without it a test can
 * walk its parent processes and read `/proc/<pid>/environ` of qf (or of the Action and the runner
 * above it) and find every credential the host environment had, and a double-forked `setsid`
 * daemon escapes the process-group kill and outlives the step.
 *
 * With a PID namespace the step's processes see only each other (a `/proc` of their own), and when
 * the namespace's first process ends the kernel kills every other process in it: a daemon cannot
 * outlive the step, whether it exits, times out or is interrupted. A user namespace adds the part
 * that holds even if tested code unmounts that `/proc`: the kernel lets no process read the
 * environment or memory of a process outside its user namespace. Where qf runs as root without
 * user namespaces, the step runs with no capabilities at all (an empty bounding set), which denies
 * the same reads of processes that hold capabilities, and of other users' processes.
 */
export type IsolationMechanism = 'user+pid namespace' | 'pid namespace' | 'container' | 'none';

/** What the step's sandbox record says about its isolation. */
export interface IsolationRecord {
  mechanism: IsolationMechanism;
  /** Tested code cannot read the environment or memory of qf and its parents through /proc. */
  hostProcessesProtected: boolean;
  /** Every process the step started ends with the step. */
  descendantsEnded: boolean;
  /** In plain words, for evidence and the summary. */
  note: string;
}

export interface ProcessIsolation {
  readonly record: IsolationRecord;
  /** The command line that runs `command` isolated (unchanged without isolation). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  /** Reads a wrapped command's exit: unshare (or setpriv) reports a command it could not start with exit code 127. */
  unwrapExit(exit: { exitCode: number | null; signal: string | null }, stderr: string): { exitCode: number | null; signal: string | null; spawnError?: string };
}

/** util-linux installs both here on every distribution; a fixed path cannot be redirected by a PATH entry. */
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'];
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'];

/** unshare and setpriv report a command they could not exec like this, with exit code 127. */
const EXEC_FAILED = /^(?:unshare|setpriv): (failed to execute .+)$/m;

const NO_ISOLATION_NOTE =
  'No process isolation: neither user namespaces (unshare --user) nor, as root, PID namespaces are available here. ' +
  'Tested code can read the environment of qf and its parent processes through /proc (every credential they hold), ' +
  'and a process that leaves its process group (setsid) can outlive the step. Use sandbox.mode "container" on such runners.';

const NONE: ProcessIsolation = {
  record: { mechanism: 'none', hostProcessesProtected: false, descendantsEnded: false, note: NO_ISOLATION_NOTE },
  wrap: (command, args) => ({ command, args: [...args] }),
  unwrapExit: (exit) => exit,
};

/**
 * The command runs as the namespace's first process (PID 1), as in a container without an init:
 * the kernel delivers it only signals it has a handler for (and SIGKILL from outside), so at the
 * deadline a command without a SIGTERM handler ends at the SIGKILL that follows; orphans it does
 * not reap stay zombies until the step ends. unshare passes on the command's exit status, and its
 * death by a signal, unchanged.
 */
function namespaced(mechanism: Exclude<IsolationMechanism, 'none' | 'container'>, prefix: readonly string[], note: string): ProcessIsolation {
  return {
    record: { mechanism, hostProcessesProtected: true, descendantsEnded: true, note },
    wrap: (command, args) => ({ command: prefix[0]!, args: [...prefix.slice(1), command, ...args] }),
    unwrapExit: (exit, stderr) => {
      const failed = exit.exitCode === 126 || exit.exitCode === 127 ? EXEC_FAILED.exec(stderr) : null;
      return failed ? { exitCode: null, signal: null, spawnError: failed[1]! } : exit;
    },
  };
}

async function firstExecutable(paths: readonly string[]): Promise<string | undefined> {
  for (const candidate of paths) {
    if (
      await access(candidate, fsConstants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

/** The mechanisms to try, best first, as argv prefixes; each is probed by running a trivial command through it. */
async function candidates(): Promise<ProcessIsolation[]> {
  const unshare = await firstExecutable(UNSHARE);
  if (!unshare) return [];
  const setpriv = await firstExecutable(SETPRIV);
  const pidNs = ['--pid', '--fork', '--kill-child'];
  const userNote =
    'user+pid namespace (unshare): tested code sees only its own processes, cannot read the environment or memory of qf or any process outside its namespace, and every process it starts ends with the step.';
  const list = [
    // --map-current-user keeps the step's uid as it is (util-linux 2.38+); --map-root-user is the older spelling's fallback.
    namespaced('user+pid namespace', [unshare, '--user', '--map-current-user', ...pidNs, '--mount-proc', '--'], userNote),
    namespaced('user+pid namespace', [unshare, '--user', '--map-root-user', ...pidNs, '--mount-proc', '--'], userNote),
    // Without a /proc of its own (some kernels refuse the mount): host pids are visible, their environment still is not.
    namespaced(
      'user+pid namespace',
      [unshare, '--user', '--map-current-user', ...pidNs, '--'],
      `${userNote} (/proc shows host processes, but not their environment or memory)`,
    ),
  ];
  if (setpriv) {
    list.push(
      namespaced(
        'pid namespace',
        [unshare, ...pidNs, '--mount-proc', '--', setpriv, '--bounding-set=-all', '--inh-caps=-all', '--no-new-privs', '--'],
        'pid namespace without capabilities (root, no user namespaces): tested code sees only its own processes, holds no capability (so cannot unmount its /proc or read the environment of qf), and every process it starts ends with the step.',
      ),
    );
  }
  return list;
}

const PROBE_TIMEOUT_MS = 10_000;

/** A shell that finds itself PID 1: the namespace is in effect, not merely accepted on the command line. */
async function works(isolation: ProcessIsolation): Promise<boolean> {
  const { command, args } = isolation.wrap('/bin/sh', ['-c', 'test "$$" = 1']);
  const result = await execa(command, args, { reject: false, stdin: 'ignore', timeout: PROBE_TIMEOUT_MS, env: {}, extendEnv: false });
  return result.exitCode === 0;
}

let detected: Promise<ProcessIsolation> | undefined;

/**
 * The best isolation this machine allows, probed once per process (a few milliseconds). `only`
 * restricts the choice (tests use it to exercise each mechanism where several are available).
 */
export function detectProcessIsolation(options: { only?: IsolationMechanism } = {}): Promise<ProcessIsolation> {
  const detect = async () => {
    if (options.only === 'none') return NONE;
    for (const candidate of await candidates()) {
      if (options.only !== undefined && candidate.record.mechanism !== options.only) continue;
      if (await works(candidate)) return candidate;
    }
    return NONE;
  };
  if (options.only !== undefined) return detect();
  return (detected ??= detect());
}

/** The container sandbox's record: a container has its own PID namespace, and removing it ends every process in it. */
export const CONTAINER_ISOLATION: IsolationRecord = {
  mechanism: 'container',
  hostProcessesProtected: true,
  descendantsEnded: true,
  note: "container: tested code sees only the container's processes (its own PID namespace), and removing the container ends every process in it.",
};
