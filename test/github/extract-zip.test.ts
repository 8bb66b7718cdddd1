import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractZip, readZip, type ZipLimits } from '../../src/github/extract-zip.js';
import { isQfError } from '../../src/errors.js';
import { tempDir } from '../support/temp-git-repo.js';
import { writeZip, type ZipWriterEntry } from '../support/zip-writer.js';

const entry = (name: string, text = 'x', extra: Partial<ZipWriterEntry> = {}): ZipWriterEntry => ({ name, data: Buffer.from(text), ...extra });

/** What readZip says about an archive: every refusal must be an EVIDENCE_INVALID QfError. */
function refusal(zip: Buffer): string {
  try {
    readZip(zip);
  } catch (error) {
    expect(isQfError(error, 'EVIDENCE_INVALID')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('readZip accepted the archive');
}

describe('readZip', () => {
  it('reads what it is given, stored or deflated, with folder entries', () => {
    const zip = writeZip([entry('reports/'), entry('evidence.json', '{}'), entry('reports/unit/junit.xml', '<x/>'.repeat(100), { deflate: true })]);
    expect(readZip(zip).map((e) => [e.name, e.data.toString()])).toEqual([
      ['evidence.json', '{}'],
      ['reports/unit/junit.xml', '<x/>'.repeat(100)],
    ]);
  });

  it.each(['../escape', 'a/../../escape', '/etc/passwd', 'C:/x', 'a\\..\\b', './a', 'a//b'])('refuses the entry name %j', (name) => {
    expect(refusal(writeZip([entry(name)]))).toMatch(/would land outside the folder/);
  });

  it.each<[string, ZipWriterEntry[], string]>([
    ['duplicate entries', [entry('evidence.json', '{}'), entry('evidence.json', '{"x":1}')], 'evidence.json appears twice'],
    [
      'a file, then a folder of that name',
      [entry('reports', 'x'), entry('reports/unit/junit.xml')],
      'reports/unit/junit.xml needs a folder reports, and a file of that name is in the archive too',
    ],
    [
      'a folder, then a file of that name',
      [entry('reports/unit/junit.xml'), entry('reports/unit')],
      'reports/unit is a file, and a folder of that name is in the archive too',
    ],
    ['a file, then a folder entry of that name', [entry('reports'), entry('reports/')], 'reports/ is a folder, and a file of that name is in the archive too'],
    [
      'a deflated size that lies (more data than declared)',
      [entry('a.txt', 'y'.repeat(10_000), { deflate: true, declaredSize: 10 })],
      'a.txt: expands past the 10 bytes the directory says',
    ],
    [
      'a deflated size that lies (less data than declared)',
      [entry('a.txt', 'y'.repeat(100), { deflate: true, declaredSize: 1_000 })],
      'a.txt: 100 bytes, the directory says 1000',
    ],
    ['a stored size that lies', [entry('a.txt', 'abc', { declaredSize: 2 })], 'a.txt: 3 bytes, the directory says 2'],
    ['a CRC that does not match', [entry('a.txt', 'abc', { crc: 12345 })], 'a.txt: its CRC-32 does not match its data'],
    [
      'a local header that names another file',
      [entry('evidence.json', '{}', { localName: 'other.json' })],
      'evidence.json: the local header names it "other.json"',
    ],
    ['a 300-byte path component', [entry(`reports/${'n'.repeat(300)}`)], 'has a part of 300 bytes, more than 255'],
    ['a 2,000-byte name', [entry(Array(20).fill('d'.repeat(99)).join('/'))], 'is 1999 bytes, more than 1024'],
    ['control characters in a name', [entry('report\n.md')], 'entry name "report\\n.md" holds control characters'],
    ['an empty name', [entry('')], 'an entry has an empty name'],
  ])('refuses %s', (_name, entries, message) => {
    expect(refusal(writeZip(entries))).toContain(message);
  });

  it('refuses a name that is not UTF-8', () => {
    const zip = writeZip([entry('ab')]);
    const at = zip.indexOf(Buffer.from('ab'), zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])));
    zip[at] = 0xff;
    expect(refusal(zip)).toContain('is not UTF-8');
  });

  it('refuses corrupt deflate data and truncated archives', () => {
    const good = writeZip([entry('a.txt', 'z'.repeat(1000), { deflate: true })]);
    const corrupt = Buffer.from(good);
    corrupt.fill(0xff, 30 + 'a.txt'.length, 30 + 'a.txt'.length + 4);
    expect(refusal(corrupt)).toMatch(/a\.txt: (its compressed data is corrupt|\d+ bytes, the directory says 1000|its CRC-32)/);
    const directoryAt = good.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const cut = Buffer.concat([good.subarray(0, 40), good.subarray(directoryAt)]);
    expect(refusal(cut)).toMatch(/broken|archive ends before|corrupt/);
  });

  it('refuses an archive that expands past the limit, and what is not a zip', () => {
    expect(() => readZip(writeZip([entry('a', 'x'.repeat(100))]), { maxEntries: 10, maxTotalBytes: 50 })).toThrow(/expands past 50 bytes/);
    expect(refusal(Buffer.from('not a zip'))).toMatch(/no end of central directory/);
  });

  it('extractZip writes the files and nothing else', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const out = join(dir, 'out');
      expect(await extractZip(await zipFile(dir, writeZip([entry('reports/'), entry('evidence.json', '{}'), entry('reports/u/j.xml')])), out)).toEqual([
        'evidence.json',
        'reports/u/j.xml',
      ]);
      expect((await readdir(out, { recursive: true })).sort()).toEqual(['evidence.json', 'reports', 'reports/u', 'reports/u/j.xml']);
    } finally {
      await cleanup();
    }
  });
});

async function zipFile(dir: string, zip: Buffer): Promise<string> {
  const file = join(dir, 'artifact.zip');
  await writeFile(file, zip);
  return file;
}

/** What the streaming extractor says about an archive, and what it left in the folder. */
async function streamingRefusal(zip: Buffer, limits?: ZipLimits): Promise<{ message: string; left: string[] }> {
  const { dir, cleanup } = await tempDir();
  try {
    const out = join(dir, 'out');
    const error = await extractZip(await zipFile(dir, zip), out, limits).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isQfError(error, 'EVIDENCE_INVALID')).toBe(true);
    const left = await readdir(out, { recursive: true }).catch(() => []);
    return { message: (error as Error).message, left: left.map(String) };
  } finally {
    await cleanup();
  }
}

/** A zip whose directory says `declared` bytes for `name`, holding `real` bytes of data compressed. */
function lyingSize(name: string, real: Buffer, declared: number): Buffer {
  const zip = writeZip([{ name, data: real, deflate: true }]);
  // Both headers carry the size: the local one at 22, the central one at 24 of its record.
  const central = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip.writeUInt32LE(declared, 22);
  zip.writeUInt32LE(declared, central + 24);
  return zip;
}

describe('extractZip streams a zip file with the same checks', () => {
  it('a zip bomb (a small declared size, 64 MiB of zeros inside) stops at the declared size', async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const bomb = lyingSize('reports/unit/junit.xml', zeros, 1000);
    expect(bomb.length).toBeLessThan(200_000);
    const { message } = await streamingRefusal(bomb);
    expect(message).toBe('The artifact is not an acceptable zip: reports/unit/junit.xml: expands past the 1000 bytes the directory says.');
  });

  it('refuses entries past the total limit before writing any, a CRC that does not match, names that escape, a local header that disagrees', async () => {
    expect(await streamingRefusal(writeZip([entry('a', 'x'.repeat(100))]), { maxEntries: 10, maxTotalBytes: 50 })).toEqual({
      message: 'The artifact is not an acceptable zip: expands past 50 bytes.',
      left: [],
    });
    const good = writeZip([entry('evidence.json', '{"a":1}')]);
    const crc = Buffer.from(good);
    crc[30 + 'evidence.json'.length] = '['.charCodeAt(0);
    expect((await streamingRefusal(crc)).message).toMatch(/evidence.json: its CRC-32 does not match its data/);
    expect((await streamingRefusal(writeZip([entry('../escape.txt')]))).message).toMatch(/would land outside the folder/);
    const renamed = Buffer.from(good);
    renamed.write('E', 30);
    expect((await streamingRefusal(renamed)).message).toMatch(/the local header names it "Evidence.json"/);
    expect((await streamingRefusal(lyingSize('a.txt', Buffer.from('x'.repeat(5000)), 6000))).message).toMatch(/a.txt: 5000 bytes, the directory says 6000/);
    expect((await streamingRefusal(Buffer.from('not a zip'))).message).toMatch(/no end of central directory/);
  });
});
