import { constants, type Stats } from 'node:fs';
import { open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { isQfError, QfError } from '../errors.js';

/**
 * The most qf reads of one report or artifact a step left behind. A pytest report of 100,000 test
 * cases is ~24 MB (FACTS.md); anything past this is not a report qf should hold or hash.
 */
export const MAX_STEP_FILE_BYTES = 256 * 1024 * 1024;

export interface ConfineOptions {
  /** The folder the file must really be in, after every link and `..` is resolved. */
  within: string;
  /** Larger files are refused. */
  maxBytes: number;
}

export interface ConfinedFile {
  handle: FileHandle;
  /** The size when it was opened: readers stop there, so a file that grows cannot pass the limit. */
  size: number;
  close(): Promise<void>;
}

const REFUSED = 'Refused to read ';

/** A step file that is not a plain file inside its folder. */
export function refusedFile(file: string, why: string, cause?: unknown): QfError {
  return new QfError('TOOL_FAILED', `${REFUSED}${file}: ${why}.`, cause === undefined ? {} : { cause });
}

/** True for the error openConfinedFile throws when the file exists but is not one qf may read. */
export function isRefusedFile(error: unknown): boolean {
  return isQfError(error, 'TOOL_FAILED') && error.message.startsWith(REFUSED);
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** Where the open file really is: the kernel's name for the descriptor, or (without /proc) the resolved path if it is the same inode. */
async function realLocation(handle: FileHandle, file: string, info: Stats): Promise<string | undefined> {
  const viaProc = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
  if (viaProc?.startsWith('/')) return viaProc;
  const resolved = await realpath(file).catch(() => undefined);
  if (!resolved) return undefined;
  const now = await stat(resolved).catch(() => undefined);
  return now && now.ino === info.ino && now.dev === info.dev ? resolved : undefined;
}

/**
 * Opens a file a step left behind, for reading, only if it is a regular file really inside
 * `within`. The step's code is hostile and may have swapped its report for a link to a host file,
 * a named pipe (whose open would block a libuv thread for good, and with it every exit of qf) or a
 * device. So the checks are made on the open descriptor, not on the path before it: the open
 * refuses a final symbolic link (O_NOFOLLOW) and never blocks (O_NONBLOCK); fstat then says what
 * was opened; the descriptor's real path says where it is (a link in a parent folder is caught
 * there). A hard link to a file elsewhere is refused by its link count.
 */
export async function openConfinedFile(file: string, options: ConfineOptions): Promise<ConfinedFile> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new QfError('TOOL_FAILED', `${file} does not exist.`, { cause: error });
    if (code === 'ELOOP') throw refusedFile(file, 'it is a symbolic link', error);
    throw refusedFile(file, `it cannot be opened (${code ?? (error as Error).message})`, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refusedFile(file, `it is ${kindOf(info)}, not a regular file`);
    if (info.nlink > 1) throw refusedFile(file, `it has ${info.nlink} hard links; a step's own file has one`);
    if (info.size > options.maxBytes) throw refusedFile(file, `it is ${info.size} bytes, over the limit of ${options.maxBytes}`);
    const root = await realpath(options.within).catch(() => undefined);
    const real = await realLocation(handle, file, info);
    if (!root || !real || !isInside(root, real)) throw refusedFile(file, `it is not inside ${options.within} (it resolves to ${real ?? 'an unknown place'})`);
    return { handle, size: info.size, close: () => handle.close() };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Streams the confined file's bytes, up to the size it had when opened. */
export async function* readConfined(file: ConfinedFile, highWaterMark = 256 * 1024): AsyncGenerator<Buffer> {
  if (file.size === 0) return;
  const stream = file.handle.createReadStream({ start: 0, end: file.size - 1, autoClose: false, highWaterMark });
  for await (const chunk of stream) yield chunk as Buffer;
}

/** The whole content of a confined file. */
export async function readConfinedFile(file: string, options: ConfineOptions): Promise<Buffer> {
  const opened = await openConfinedFile(file, options);
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of readConfined(opened)) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    await opened.close();
  }
}

/** Size and sha256 of a confined file, read from one open descriptor (what is hashed is what is measured). */
export async function hashConfinedFile(file: string, options: ConfineOptions): Promise<{ size: number; sha256: string }> {
  const opened = await openConfinedFile(file, options);
  try {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of readConfined(opened)) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    await opened.close();
  }
}
