import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { QfError } from '../errors.js';

export interface ZipLimits {
  /** Most entries accepted. */
  maxEntries: number;
  /** Most bytes all entries may expand to (a zip bomb stops here). */
  maxTotalBytes: number;
}

const DEFAULT_LIMITS: ZipLimits = { maxEntries: 10_000, maxTotalBytes: 512 * 1024 * 1024 };

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/**
 * Reads a zip from an untrusted source. Unlike the artifact library's extractor, it refuses entry
 * names that would land outside the target (absolute, `..`, backslashes, drive letters), encrypted
 * or unknown compression, and archives that expand past the limits.
 */
export function readZip(zip: Buffer, limits: ZipLimits = DEFAULT_LIMITS): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > zip.length) throw invalid('no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || offset === 0xffffffff) throw invalid('zip64 archives are not accepted');
  if (count > limits.maxEntries) throw invalid(`${count} entries, more than ${limits.maxEntries}`);

  const entries: ZipEntry[] = [];
  let total = 0;
  for (let index = 0; index < count; index += 1) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== 0x02014b50) throw invalid('broken central directory');
    const flags = zip.readUInt16LE(offset + 8);
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.subarray(offset + 46, offset + 46 + nameLength).toString('utf8');
    offset += 46 + nameLength + extraLength + commentLength;

    if (name.endsWith('/')) continue;
    checkName(name);
    if (flags & 0x1) throw invalid(`${name} is encrypted`);
    total += size;
    if (total > limits.maxTotalBytes) throw invalid(`expands past ${limits.maxTotalBytes} bytes`);
    if (localOffset + 30 > zip.length || zip.readUInt32LE(localOffset) !== 0x04034b50) throw invalid(`${name}: broken local header`);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
    else throw invalid(`${name}: compression method ${method} is not accepted`);
    if (data.length !== size) throw invalid(`${name}: ${data.length} bytes, the directory says ${size}`);
    entries.push({ name, data });
  }
  return entries;
}

/** Writes the entries of readZip() under `dir`. */
export async function extractZip(zip: Buffer, dir: string, limits?: ZipLimits): Promise<string[]> {
  const entries = readZip(zip, limits);
  for (const entry of entries) {
    const target = join(dir, entry.name);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, entry.data, { flag: 'wx' });
  }
  return entries.map((entry) => entry.name);
}

function checkName(name: string): void {
  const parts = name.split('/');
  if (name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.includes('\0') || parts.some((part) => part === '..' || part === '.')) {
    throw invalid(`entry name ${JSON.stringify(name)} would land outside the folder`);
  }
}

function invalid(reason: string): QfError {
  return new QfError('EVIDENCE_INVALID', `The artifact is not an acceptable zip: ${reason}.`);
}
