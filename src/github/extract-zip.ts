import { isUtf8 } from 'node:buffer';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
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
 *
 * Hand-written on purpose: the checks above are most of the code whatever reads the format, node:zlib
 * does the inflating, and a library would add to the Action bundle without removing any of them.
 */
export function readZip(zip: Buffer, limits: ZipLimits = DEFAULT_LIMITS): ZipEntry[] {
  try {
    return readEntries(zip, limits);
  } catch (error) {
    if (error instanceof QfError) throw error;
    // A truncated buffer or corrupt deflate data: whatever node threw, the archive is what is wrong.
    throw invalid(errorMessage(error));
  }
}

function readEntries(zip: Buffer, limits: ZipLimits): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > zip.length) throw invalid('no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || offset === 0xffffffff) throw invalid('zip64 archives are not accepted');
  if (count > limits.maxEntries) throw invalid(`${count} entries, more than ${limits.maxEntries}`);

  const entries: ZipEntry[] = [];
  const layout = new FolderLayout();
  let total = 0;
  for (let index = 0; index < count; index += 1) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== 0x02014b50) throw invalid('broken central directory');
    const flags = zip.readUInt16LE(offset + 8);
    const method = zip.readUInt16LE(offset + 10);
    const crc = zip.readUInt32LE(offset + 16);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    if (offset + 46 + nameLength > zip.length) throw invalid('broken central directory');
    const nameBytes = zip.subarray(offset + 46, offset + 46 + nameLength);
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
    if (localOffset + 30 > zip.length || zip.readUInt32LE(localOffset) !== 0x04034b50) throw invalid(`${name}: broken local header`);
    const localNameLength = zip.readUInt16LE(localOffset + 26);
    const localName = zip.subarray(localOffset + 30, localOffset + 30 + localNameLength);
    // Two names for one entry let two readers see two different bundles.
    if (!localName.equals(nameBytes)) throw invalid(`${name}: the local header names it ${JSON.stringify(localName.toString('utf8'))}`);
    // Without a data descriptor (flag 8) the local header carries the sizes too, and they must agree.
    if (!(flags & 0x8) && (zip.readUInt32LE(localOffset + 18) !== compressedSize || zip.readUInt32LE(localOffset + 22) !== size)) {
      throw invalid(`${name}: the local header and the central directory give different sizes`);
    }
    const dataStart = localOffset + 30 + localNameLength + zip.readUInt16LE(localOffset + 28);
    if (dataStart + compressedSize > zip.length) throw invalid(`${name}: ${compressedSize} compressed bytes claimed, the archive ends before`);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflate(raw, size, name);
    else throw invalid(`${name}: compression method ${method} is not accepted`);
    if (data.length !== size) throw invalid(`${name}: ${data.length} bytes, the directory says ${size}`);
    if (crc32(data) !== crc) throw invalid(`${name}: its CRC-32 does not match its data`);
    entries.push({ name, data });
  }
  return entries;
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

/** Writes the entries of readZip() under `dir`, which should be empty. */
export async function extractZip(zip: Buffer, dir: string, limits?: ZipLimits): Promise<string[]> {
  const entries = readZip(zip, limits);
  try {
    for (const entry of entries) {
      const target = join(dir, entry.name);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, entry.data, { flag: 'wx' });
    }
  } catch (error) {
    throw invalid(`cannot be extracted: ${errorMessage(error)}`);
  }
  return entries.map((entry) => entry.name);
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
