import { describe, expect, it } from 'vitest';
import { readZip } from '../../src/github/extract-zip.js';
import { writeZip } from '../support/zip-writer.js';

const entry = (name: string, text = 'x') => ({ name, data: Buffer.from(text) });

describe('readZip', () => {
  it('reads what it is given', () => {
    expect(readZip(writeZip([entry('evidence.json', '{}'), entry('reports/unit/junit.xml', '<x/>')])).map((e) => [e.name, e.data.toString()])).toEqual([
      ['evidence.json', '{}'],
      ['reports/unit/junit.xml', '<x/>'],
    ]);
  });

  it.each(['../escape', 'a/../../escape', '/etc/passwd', 'C:/x', 'a\\..\\b', './a'])('refuses the entry name %j', (name) => {
    expect(() => readZip(writeZip([entry(name)]))).toThrow(/would land outside the folder/);
  });

  it('refuses an archive that expands past the limit', () => {
    expect(() => readZip(writeZip([entry('a', 'x'.repeat(100))]), { maxEntries: 10, maxTotalBytes: 50 })).toThrow(/expands past 50 bytes/);
  });

  it('refuses what is not a zip', () => {
    expect(() => readZip(Buffer.from('not a zip'))).toThrow(/no end of central directory/);
  });
});
