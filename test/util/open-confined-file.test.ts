import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashConfinedFile, isRefusedFile, readConfinedFile } from '../../src/util/open-confined-file.js';
import { tempDir } from '../support/temp-git-repo.js';

let root: string;
let step: string;
let host: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('qf-confined-'));
  step = path.join(root, 'step');
  host = path.join(root, 'host');
  await mkdir(step);
  await mkdir(host);
  await writeFile(path.join(host, 'secret'), 'host secret');
  await writeFile(path.join(host, 'other'), 'host file');
  await writeFile(path.join(step, 'report.xml'), '<ok/>');
  await symlink(path.join(host, 'secret'), path.join(step, 'link.xml'));
  await symlink(host, path.join(step, 'through'));
  await link(path.join(host, 'secret'), path.join(step, 'hard.xml'));
  execFileSync('mkfifo', [path.join(step, 'pipe.xml')]);
  await writeFile(path.join(step, 'big.xml'), 'x'.repeat(2048));
});
afterAll(() => cleanup());

describe('readConfinedFile', () => {
  it('reads a regular file inside the folder', async () => {
    expect((await readConfinedFile(path.join(step, 'report.xml'), { within: step, maxBytes: 1024 })).toString()).toBe('<ok/>');
    expect(await hashConfinedFile(path.join(step, 'report.xml'), { within: step, maxBytes: 1024 })).toEqual({
      size: 5,
      sha256: createHash('sha256').update('<ok/>').digest('hex'),
    });
  });

  it.each([
    ['link.xml', 'it is a symbolic link'],
    ['through/other', `it is not inside ${'STEP'}`],
    ['hard.xml', 'it has 2 hard links'],
    ['pipe.xml', 'it is a named pipe, not a regular file'],
    ['big.xml', 'it is 2048 bytes, over the limit of 1024'],
    ['.', 'it is a directory, not a regular file'],
  ])('refuses %s: %s', async (name, why) => {
    const error = await readConfinedFile(path.join(step, name), { within: step, maxBytes: 1024 }).catch((caught: unknown) => caught);
    expect(isRefusedFile(error)).toBe(true);
    expect((error as Error).message).toContain(`Refused to read ${path.join(step, name)}: ${why.replace('STEP', step)}`);
  });

  it('says a missing file does not exist', async () => {
    await expect(readConfinedFile(path.join(step, 'none.xml'), { within: step, maxBytes: 1024 })).rejects.toThrow(
      `${path.join(step, 'none.xml')} does not exist.`,
    );
  });
});
