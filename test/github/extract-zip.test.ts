import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { extractZip, readZip } from '../../src/github/extract-zip.js';
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
      expect(await extractZip(writeZip([entry('reports/'), entry('evidence.json', '{}'), entry('reports/u/j.xml')]), dir)).toEqual([
        'evidence.json',
        'reports/u/j.xml',
      ]);
      expect((await readdir(dir, { recursive: true })).sort()).toEqual(['evidence.json', 'reports', 'reports/u', 'reports/u/j.xml']);
    } finally {
      await cleanup();
    }
  });
});
