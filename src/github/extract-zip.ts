import { isUtf8 } from 'node:buffer';
import { createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32, inflateRawSync } from 'node:zlib';
import { errorMessage, QfError } from '../errors.js';

export interface ZipLimits {
  /** Most entries accepted. */
  maxEntries: number;
  /** Most bytes all entries may expand to (a zip bomb stops here). */
  maxTotalBytes: number;
}

const DEFAULT_LIMITS: ZipLimits = { maxEntries: 10_000, maxTotalBytes: 512 * 1024 * 1024 };
/** Longest entry name and path component, in bytes: what every runner's file system takes (NAME_MAX 255), with room for the runner's temp folder under PATH_MAX. */
const MAX_NAME_BYTES = 1024;
const MAX_COMPONENT_BYTES = 255;

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/**
 * Reads a zip from an untrusted source (a fork's evidence artifact) and refuses, as invalid evidence,
 * anything that is not one plain reading of a folder of files: entry names that would land outside
 * the target (absolute, `..`, backslashes, drive letters), that are not UTF-8, hold control
 * characters or are too long for a file system; two entries with one name, or a file where another
 * entry needs a folder; encryption, unknown compression, zip64; sizes or CRCs that do not match the
 * data; local headers that disagree with the central directory; archives past the limits.
 * readZip holds the archive and its entries in memory (tests, small zips); extractZip streams a zip
 * file entry by entry to disk with the same checks, memory bounded whatever the entries' sizes.
 *
 * Hand-written on purpose: the checks above are most of the code whatever reads the format, node:zlib
 * does the inflating, and a library would add to the Action bundle without removing any of them
 * (unzip-stream reads local headers only, so it cannot see one that disagrees with the directory).
 */
export function readZip(zip: Buffer, limits: ZipLimits = DEFAULT_LIMITS): ZipEntry[] {
  try {
    const entries: ZipEntry[] = [];
    for (const entry of readDirectory(zip, 0, endOfDirectory(zip, limits), zip.length, limits)) {
      if (entry.localOffset + 30 > zip.length) throw invalid(`${entry.name}: broken local header`);
      const localNameLength = zip.readUInt16LE(entry.localOffset + 26);
      const dataStart = checkLocalHeader(entry, zip.subarray(entry.localOffset, entry.localOffset + 30 + localNameLength), zip.length);
      const raw = zip.subarray(dataStart, dataStart + entry.compressedSize);
      const data = entry.method === 0 ? Buffer.from(raw) : inflate(raw, entry.size, entry.name);
      if (data.length !== entry.size) throw invalid(`${entry.name}: ${data.length} bytes, the directory says ${entry.size}`);
      if (crc32(data) !== entry.crc) throw invalid(`${entry.name}: its CRC-32 does not match its data`);
      entries.push({ name: entry.name, data });
    }
    return entries;
  } catch (error) {
    if (error instanceof QfError) throw error;
    // A truncated buffer or corrupt deflate data: whatever node threw, the archive is what is wrong.
    throw invalid(errorMessage(error));
  }
}

/** A file entry as the central directory describes it, its name and layout already checked. */
interface DirectoryEntry {
  name: string;
  nameBytes: Buffer;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** End of central directory (22 bytes) plus the longest comment it may carry. */
const EOCD_SEARCH_BYTES = 22 + 0xffff;

/** Where the central directory is, from the end of central directory record in `tail` (the archive's end). */
function endOfDirectory(tail: Buffer, limits: ZipLimits): { count: number; start: number; length: number } {
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > tail.length) throw invalid('no end of central directory');
  const count = tail.readUInt16LE(eocd + 10);
  const length = tail.readUInt32LE(eocd + 12);
  const start = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || start === 0xffffffff) throw invalid('zip64 archives are not accepted');
  if (count > limits.maxEntries) throw invalid(`${count} entries, more than ${limits.maxEntries}`);
  return { count, start, length };
}

/**
 * The file entries of the central directory, checked: names, layout, encryption, method, the total
 * expanded size. `cd` holds the archive's bytes from offset `base` (all of a buffer: 0; the
 * directory read from a file: its start).
 */
function readDirectory(cd: Buffer, base: number, end: { count: number; start: number }, archiveSize: number, limits: ZipLimits): DirectoryEntry[] {
  const { count } = end;
  let offset = end.start - base;
  const entries: DirectoryEntry[] = [];
  const layout = new FolderLayout();
  let total = 0;
  for (let index = 0; index < count; index += 1) {
    if (offset < 0 || offset + 46 > cd.length || cd.readUInt32LE(offset) !== 0x02014b50) throw invalid('broken central directory');
    const flags = cd.readUInt16LE(offset + 8);
    const method = cd.readUInt16LE(offset + 10);
    const crc = cd.readUInt32LE(offset + 16);
    const compressedSize = cd.readUInt32LE(offset + 20);
    const size = cd.readUInt32LE(offset + 24);
    const nameLength = cd.readUInt16LE(offset + 28);
    const extraLength = cd.readUInt16LE(offset + 30);
    const commentLength = cd.readUInt16LE(offset + 32);
    const localOffset = cd.readUInt32LE(offset + 42);
    if (offset + 46 + nameLength > cd.length) throw invalid('broken central directory');
    const nameBytes = Buffer.from(cd.subarray(offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;

    const name = checkName(nameBytes);
    if (name.endsWith('/')) {
      layout.addFolder(name.slice(0, -1));
      continue;
    }
    layout.addFile(name);
    if (flags & 0x1) throw invalid(`${name} is encrypted`);
    total += size;
    if (total > limits.maxTotalBytes) throw invalid(`expands past ${limits.maxTotalBytes} bytes`);
    if (localOffset + 30 > archiveSize) throw invalid(`${name}: broken local header`);
    if (method !== 0 && method !== 8) throw invalid(`${name}: compression method ${method} is not accepted`);
    entries.push({ name, nameBytes, flags, method, crc, compressedSize, size, localOffset });
  }
  return entries;
}

/** Checks an entry's local header (30 bytes and its name) against the directory; returns where its data starts. */
function checkLocalHeader(entry: DirectoryEntry, local: Buffer, archiveSize: number): number {
  const { name } = entry;
  if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw invalid(`${name}: broken local header`);
  const localNameLength = local.readUInt16LE(26);
  const localName = local.subarray(30, 30 + localNameLength);
  // Two names for one entry let two readers see two different bundles.
  if (!localName.equals(entry.nameBytes)) throw invalid(`${name}: the local header names it ${JSON.stringify(localName.toString('utf8'))}`);
  // Without a data descriptor (flag 8) the local header carries the sizes too, and they must agree.
  if (!(entry.flags & 0x8) && (local.readUInt32LE(18) !== entry.compressedSize || local.readUInt32LE(22) !== entry.size)) {
    throw invalid(`${name}: the local header and the central directory give different sizes`);
  }
  const dataStart = entry.localOffset + 30 + localNameLength + local.readUInt16LE(28);
  if (dataStart + entry.compressedSize > archiveSize) throw invalid(`${name}: ${entry.compressedSize} compressed bytes claimed, the archive ends before`);
  return dataStart;
}

/** Inflates at most `size` bytes: a size that lies (more data than declared) is refused, not grown into. */
function inflate(raw: Buffer, size: number, name: string): Buffer {
  try {
    return inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw invalid(`${name}: expands past the ${size} bytes the directory says`);
    throw invalid(`${name}: its compressed data is corrupt (${errorMessage(error)})`);
  }
}

/**
 * The files and folders the entries make, so that an archive means one folder tree: no name twice,
 * and no name that is a file for one entry and a folder for another (in either order).
 */
class FolderLayout {
  private readonly files = new Set<string>();
  private readonly folders = new Set<string>();

  addFile(name: string): void {
    if (this.files.has(name)) throw invalid(`${name} appears twice`);
    if (this.folders.has(name)) throw invalid(`${name} is a file, and a folder of that name is in the archive too`);
    this.addParents(name);
    this.files.add(name);
  }

  addFolder(name: string): void {
    if (this.files.has(name)) throw invalid(`${name}/ is a folder, and a file of that name is in the archive too`);
    this.addParents(name);
    this.folders.add(name);
  }

  private addParents(name: string): void {
    const parts = name.split('/');
    for (let length = 1; length < parts.length; length += 1) {
      const parent = parts.slice(0, length).join('/');
      if (this.files.has(parent)) throw invalid(`${name} needs a folder ${parent}, and a file of that name is in the archive too`);
      this.folders.add(parent);
    }
  }
}

/** A central directory larger than this is refused before it is read (10,000 entries of long names fit). */
const MAX_DIRECTORY_BYTES = 16 * 1024 * 1024;

/**
 * Extracts the zip file `zipFile` under `dir` (which should be empty), streaming: the central
 * directory is read and checked first, then each entry's local header, then its data flows from
 * the file through inflate to its target while its size and CRC-32 are counted; an entry that
 * expands past the size the directory gives (a zip bomb) stops there. Returns the files written.
 */
export async function extractZip(zipFile: string, dir: string, limits: ZipLimits = DEFAULT_LIMITS): Promise<string[]> {
  const handle = await open(zipFile, 'r');
  try {
    const { size } = await handle.stat();
    const tail = await readAt(handle, Math.max(0, size - EOCD_SEARCH_BYTES), Math.min(size, EOCD_SEARCH_BYTES));
    const end = endOfDirectory(tail, limits);
    if (end.length > MAX_DIRECTORY_BYTES) throw invalid(`a central directory of ${end.length} bytes, more than ${MAX_DIRECTORY_BYTES}`);
    const entries = readDirectory(await readAt(handle, end.start, Math.min(end.length, Math.max(0, size - end.start))), end.start, end, size, limits);
    for (const entry of entries) {
      const head = await readAt(handle, entry.localOffset, 30);
      const local = head.length === 30 ? await readAt(handle, entry.localOffset, 30 + head.readUInt16LE(26)) : head;
      const dataStart = checkLocalHeader(entry, local, size);
      await writeEntry(handle, entry, dataStart, join(dir, entry.name));
    }
    return entries.map((entry) => entry.name);
  } catch (error) {
    if (error instanceof QfError) throw error;
    throw invalid(errorMessage(error));
  } finally {
    await handle.close();
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** One entry's data, from the archive through inflate to `target`, its size and CRC-32 checked on the way. */
async function writeEntry(handle: FileHandle, entry: DirectoryEntry, dataStart: number, target: string): Promise<void> {
  const { name, size } = entry;
  let written = 0;
  let crc = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      written += chunk.length;
      if (written > size) return done(invalid(`${name}: expands past the ${size} bytes the directory says`));
      crc = crc32(chunk, crc);
      done(null, chunk);
    },
    flush(done) {
      if (written !== size) return done(invalid(`${name}: ${written} bytes, the directory says ${size}`));
      if (crc !== entry.crc) return done(invalid(`${name}: its CRC-32 does not match its data`));
      done();
    },
  });
  const source =
    entry.compressedSize === 0 ? Readable.from([]) : handle.createReadStream({ start: dataStart, end: dataStart + entry.compressedSize - 1, autoClose: false });
  try {
    await mkdir(dirname(target), { recursive: true });
  } catch (error) {
    throw invalid(`cannot be extracted: ${errorMessage(error)}`);
  }
  try {
    const sink = createWriteStream(target, { flags: 'wx' });
    await (entry.method === 8 ? pipeline(source, createInflateRaw(), check, sink) : pipeline(source, check, sink));
  } catch (error) {
    if (error instanceof QfError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code === 'ERR_ZLIB') throw invalid(`${name}: its compressed data is corrupt (${errorMessage(error)})`);
    throw invalid(`cannot be extracted: ${errorMessage(error)}`);
  }
}

function checkName(bytes: Buffer): string {
  const shown = JSON.stringify(bytes.toString('utf8'));
  if (bytes.length === 0) throw invalid('an entry has an empty name');
  if (!isUtf8(bytes)) throw invalid(`entry name ${shown} is not UTF-8`);
  const name = bytes.toString('utf8');
  if (bytes.length > MAX_NAME_BYTES) throw invalid(`entry name ${JSON.stringify(name.slice(0, 60))}… is ${bytes.length} bytes, more than ${MAX_NAME_BYTES}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid(`entry name ${shown} holds control characters`);
  const parts = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || parts.some((part) => part === '..' || part === '.' || part === '')) {
    throw invalid(`entry name ${shown} would land outside the folder`);
  }
  const long = parts.find((part) => Buffer.byteLength(part) > MAX_COMPONENT_BYTES);
  if (long !== undefined)
    throw invalid(`entry name ${JSON.stringify(name.slice(0, 60))}… has a part of ${Buffer.byteLength(long)} bytes, more than ${MAX_COMPONENT_BYTES}`);
  return name;
}

function invalid(reason: string): QfError {
  return new QfError('EVIDENCE_INVALID', `The artifact is not an acceptable zip: ${reason}.`);
}
