import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPolicyText, loadPolicyFile, parsePolicy } from '../../src/policy/load-policy.js';
import { PolicyError } from '../../src/policy/policy-error.js';
import { PolicyLimit } from '../../src/policy/policy-limits.js';
import { sha256Hex } from '../../src/util/canonical-json.js';
import { tempDir } from '../support/temp-git-repo.js';

const SOURCE = { path: '.github/qualityfoundry.yml', sourceRef: null };

/** Every problem as `line:column message`; checkPolicyText must answer, never throw. */
function problemsOf(input: string | Uint8Array): string[] {
  const result = checkPolicyText(input, SOURCE);
  if (result.ok) return [];
  return result.problems.map((problem) => `${problem.line}:${problem.column} ${problem.message}`);
}

/** A "billion laughs": each level names the previous one nine times. */
const ALIAS_BOMB = [
  'version: 1',
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  '',
].join('\n');

describe('policy parser limits: attacks get a positioned problem, never an exception', () => {
  it('an alias bomb is refused at the alias where expansion passes the limit', () => {
    // Aliases add 9·10 (line 3) + 9·91 (line 4) + 9·820 (line 5) = 8,289 nodes; the first *d (7,381 more) passes 10,000.
    expect(problemsOf(ALIAS_BOMB)).toEqual([
      `6:8 aliases expand to more than ${PolicyLimit.maxAliasNodes} nodes by here (an alias bomb?); write the values out or use fewer aliases`,
    ]);
    expect(() => parsePolicy(ALIAS_BOMB, SOURCE)).toThrow(PolicyError);
  });

  it('aliases that are used sensibly still work', () => {
    const { policy } = parsePolicy(
      'version: 1\nplan:\n  - when: { changed: &py ["**/*.py"] }\n    run: run_pytest\napproval:\n  required_when: { changed: *py }\n',
      SOURCE,
    );
    expect(policy.approval.required_when).toEqual({ changed: ['**/*.py'] });
  });

  it('an alias to no anchor, and an alias inside its own anchor, are positioned problems', () => {
    expect(problemsOf('version: 1\nmode: *nothing\n')).toEqual(['2:7 alias *nothing names no anchor set before it (write &nothing on an earlier value)']);
    expect(problemsOf('version: 1\nloop: &l [1, *l]\n')).toEqual(['2:14 alias *l is inside the value it names, which would never end']);
  });

  it('deep nesting is refused before the parser recurses (flow and block)', () => {
    const flow = `version: 1\nx: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    // Brackets are counted by the lexer alone (the parser takes seconds over 100,000 of them): the 33rd `[` is refused.
    expect(problemsOf(flow)).toEqual([`2:${4 + PolicyLimit.maxDepth} nested more than ${PolicyLimit.maxDepth} levels deep; a policy needs a handful`]);
    const block = `version: 1\n${Array.from({ length: 700 }, (_, depth) => `${' '.repeat(depth)}k:`).join('\n')}\n`;
    expect(problemsOf(block)).toEqual([
      `${2 + PolicyLimit.maxDepth}:${1 + PolicyLimit.maxDepth} nested more than ${PolicyLimit.maxDepth} levels deep; a policy needs a handful`,
    ]);
  });

  it(`a policy larger than ${PolicyLimit.maxBytes} bytes is refused where it passes the limit (a 5.8 MB one)`, () => {
    const line = '# padding padding padding padding padding padding padding padding padding padding\n'; // 82 bytes
    const huge = `version: 1\n${line.repeat(Math.ceil(5_800_000 / line.length))}`;
    const limitLine = 1 + 1 + Math.floor((PolicyLimit.maxBytes - 11) / line.length);
    const limitColumn = 1 + ((PolicyLimit.maxBytes - 11) % line.length);
    expect(problemsOf(huge)).toEqual([
      `${limitLine}:${limitColumn} the policy file is ${Buffer.byteLength(huge)} bytes, more than the ${PolicyLimit.maxBytes} (256 KiB) accepted; this is where the limit is passed`,
    ]);
    // Exactly at the limit is still read.
    const atLimit = `version: 1\n#${'x'.repeat(PolicyLimit.maxBytes - 13)}\n`;
    expect(Buffer.byteLength(atLimit)).toBe(PolicyLimit.maxBytes);
    expect(problemsOf(atLimit)).toEqual([]);
  });

  it('a NUL byte is refused with its position', () => {
    expect(problemsOf('version: 1\nmode: str\0ict\n')).toEqual(['2:10 a NUL byte; a policy is UTF-8 text']);
  });

  it('invalid UTF-8 is refused with its position, and the digest is over the raw bytes', () => {
    const withByte = (byte: number) => Buffer.concat([Buffer.from('version: 1\nmode: strict # ünïcode '), Buffer.from([byte]), Buffer.from('\n')]);
    expect(problemsOf(withByte(0xff))).toEqual(['2:24 byte 0xff at offset 36 is not valid UTF-8; a policy is UTF-8 text']);
    expect(problemsOf(withByte(0xfe))).toEqual(['2:24 byte 0xfe at offset 36 is not valid UTF-8; a policy is UTF-8 text']);
    // Overlong forms, surrogates and a cut-off sequence are not UTF-8 either.
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
    ]) {
      expect(problemsOf(Buffer.concat([Buffer.from('version: 1\n# '), Buffer.from(bad)]))).toEqual([
        `2:3 byte 0x${bad[0]!.toString(16)} at offset 13 is not valid UTF-8; a policy is UTF-8 text`,
      ]);
    }
    const valid = Buffer.from('version: 1\nmode: strict # ünïcode ✓ 𝄞\n');
    expect(parsePolicy(valid, SOURCE).sha256).toBe(sha256Hex(valid));
  });

  it('loadPolicyFile reads bytes: a file with invalid UTF-8 is refused, not repaired', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'policy.yml');
      await writeFile(file, Buffer.concat([Buffer.from('version: 1\n'), Buffer.from([0xff, 0x0a])]));
      await expect(loadPolicyFile(file)).rejects.toThrow(`${file}:2:1: byte 0xff at offset 11 is not valid UTF-8; a policy is UTF-8 text`);
      await writeFile(file, 'version: 1\nmode: adaptive\n');
      expect((await loadPolicyFile(file)).sha256).toBe(sha256Hex('version: 1\nmode: adaptive\n'));
    } finally {
      await cleanup();
    }
  });
});
