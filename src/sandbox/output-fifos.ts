import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, read, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const readFd = promisify(read);

/** How long qf waits between reads while a command prints little (pytest's dots, a build's log). */
const IDLE_POLL_MS = 25;
/** A read round that got at least this much reads again at once: the command is printing a lot. */
const BUSY_ROUND_BYTES = 16 * 1024;
/** After the command exits, how long a descendant that escaped its process group may hold the pipes. */
const LINGER_AFTER_EXIT_MS = 2_000;
const READ_CHUNK_BYTES = 64 * 1024;

export type OutputStream = 'stdout' | 'stderr';

/**
 * A command's stdout and stderr through two named pipes that qf reads on a timer.
 *
 * Why not ordinary pipes: pytest flushes after every test, and with an ordinary pipe every flush
 * wakes Node. On a two-core runner the scheduler then keeps moving Node onto pytest's core, which
 * cost about 50 ms per 1,000 tests (bench/results/core.md). A named pipe opened
 * non-blocking is read without waiting on it, so a write wakes nobody. It keeps what pipes give:
 * nothing on disk, every byte counted, and a writer that outruns qf waits on the full pipe.
 */
export class OutputFifos {
  private exitedAt: number | undefined;
  private wake: (() => void) | undefined;

  private constructor(
    /** The private folder (mode 700) the pipes live in; removed by close(). */
    readonly dir: string,
    private readonly readers: Record<OutputStream, FifoReader>,
    private writeEnds: number[],
  ) {}

  /**
   * Two fresh named pipes, or undefined where the system has none (Windows) so pipes are used.
   * Synchronous, a few milliseconds: the warm start opens them before qf has loaded, where every
   * callback would wait for the loading to finish.
   */
  static open(): OutputFifos | undefined {
    if (process.platform === 'win32') return undefined;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qf-output-'));
    const opened: number[] = [];
    const openEnd = (file: string, flags: number) => {
      const fd = openSync(file, flags);
      opened.push(fd);
      return fd;
    };
    try {
      const stdoutPath = path.join(dir, 'stdout');
      const stderrPath = path.join(dir, 'stderr');
      execFileSync('mkfifo', ['-m', '600', stdoutPath, stderrPath], { stdio: 'ignore' });
      // The read ends first and non-blocking, so the write ends open at once and reads never wait.
      const readFlags = constants.O_RDONLY | constants.O_NONBLOCK;
      const readers = { stdout: new FifoReader(openEnd(stdoutPath, readFlags)), stderr: new FifoReader(openEnd(stderrPath, readFlags)) };
      // The write ends stay blocking: the command inherits them, and a full pipe must make it wait.
      const writeEnds = [openEnd(stdoutPath, constants.O_WRONLY), openEnd(stderrPath, constants.O_WRONLY)];
      return new OutputFifos(dir, readers, writeEnds);
    } catch {
      for (const fd of opened) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
  }

  /** The descriptors to give the command as its stdout and stderr. */
  get stdio(): [number, number] {
    return [this.writeEnds[0]!, this.writeEnds[1]!];
  }

  /** Once the command has started it holds its own copies; ours would keep the pipes from ending. */
  closeWriteEnds(): void {
    for (const fd of this.writeEnds) closeSync(fd);
    this.writeEnds = [];
  }

  /** Tells the reader the command exited: read what is left without waiting between rounds. */
  commandExited(): void {
    this.exitedAt = performance.now();
    this.wake?.();
  }

  /** Reads both pipes until every writer has closed them, handing each chunk to `onChunk`. */
  async pump(onChunk: (stream: OutputStream, chunk: Buffer) => void): Promise<void> {
    const { stdout, stderr } = this.readers;
    while (!(stdout.ended && stderr.ended)) {
      const bytes = (await stdout.readAvailable((chunk) => onChunk('stdout', chunk))) + (await stderr.readAvailable((chunk) => onChunk('stderr', chunk)));
      if (stdout.ended && stderr.ended) break;
      if (this.exitedAt !== undefined && performance.now() - this.exitedAt > LINGER_AFTER_EXIT_MS) break;
      if (bytes >= BUSY_ROUND_BYTES) continue;
      const pause = this.exitedAt === undefined ? IDLE_POLL_MS : 1;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        this.wake = () => {
          clearTimeout(timer); // a pending timer would keep the process alive after the run
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  async close(): Promise<void> {
    this.closeWriteEnds();
    for (const reader of Object.values(this.readers)) reader.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

class FifoReader {
  ended = false;
  private closed = false;
  private readonly buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);

  constructor(private readonly fd: number) {}

  /** Reads until the pipe is empty; returns how many bytes came. Sets `ended` once no writer is left. */
  async readAvailable(onChunk: (chunk: Buffer) => void): Promise<number> {
    let total = 0;
    while (!this.ended) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await readFd(this.fd, this.buffer, 0, READ_CHUNK_BYTES, null));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return total;
        throw error;
      }
      if (bytesRead === 0) {
        this.ended = true;
      } else {
        // A copy of exactly what came: the read buffer is reused, and the caller may keep the chunk.
        onChunk(Buffer.from(this.buffer.subarray(0, bytesRead)));
        total += bytesRead;
      }
    }
    return total;
  }

  close(): void {
    if (this.closed) return; // closing a number twice could close a descriptor opened since
    this.closed = true;
    closeSync(this.fd);
  }
}
