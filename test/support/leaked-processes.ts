import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface LeakedProcess {
  pid: number;
  command: string;
  why: string;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined; // the process ended, or it is not ours to read
  }
}

/** pid → parent pid and state, for every live process (from /proc/PID/stat). */
function processTable(): Map<number, { ppid: number; state: string }> {
  const table = new Map<number, { ppid: number; state: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses, so split after the last `)`.
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields) table.set(Number(entry), { state: fields[0]!, ppid: Number(fields[1]) });
  }
  return table;
}

/**
 * Processes a test left running: descendants of `rootPid` (this test worker), and any process whose
 * working folder, command line or environment names `folder` (the test file's temporary folder) —
 * that also finds sandboxed steps, which get a filtered environment, and containers, whose processes
 * are not our descendants. Zombies are ignored: they hold no resources but a pid.
 */
export function leakedProcesses(rootPid: number, folder: string): LeakedProcess[] {
  const table = processTable();
  const ancestors = new Set<number>();
  for (let pid = rootPid; pid > 0 && !ancestors.has(pid); pid = table.get(pid)?.ppid ?? 0) ancestors.add(pid);
  const leaked: LeakedProcess[] = [];
  for (const [pid, { state }] of table) {
    if (ancestors.has(pid) || state === 'Z') continue;
    let why: string | undefined;
    for (let parent = table.get(pid)?.ppid ?? 0, seen = 0; parent > 0 && seen < 64; parent = table.get(parent)?.ppid ?? 0, seen++) {
      if (parent === rootPid) why = 'a child of the test worker';
    }
    if (!why) {
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // not readable: judged by its command line and environment alone
      }
      if (cwd === folder || cwd.startsWith(`${folder}/`)) why = `working folder ${cwd}`;
      else if (read(`/proc/${pid}/cmdline`)?.includes(folder)) why = 'command line names the temporary folder';
      else if (read(`/proc/${pid}/environ`)?.includes(folder)) why = 'environment names the temporary folder';
    }
    if (why) leaked.push({ pid, command: (read(`/proc/${pid}/cmdline`) ?? '').replaceAll('\0', ' ').trim().slice(0, 200), why });
  }
  return leaked;
}
