import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalCaseResult } from '../../evidence/schema.js';
import { EvalCaseResultSchema } from '../../evidence/schema.js';
import { digestOf } from '../../util/canonical-json.js';
import * as z from 'zod';

const Entry = z.object({ cases: z.array(EvalCaseResultSchema) });

/**
 * The base's results of a suite, kept in the runner's cache folder by (base SHA, suite digest,
 * target digest): the base does not change under a pull request, so a re-run, or the next push,
 * does not run it again. A file that is unreadable or malformed is a miss.
 */
export class BaseResultCache {
  constructor(private readonly dir: string | undefined) {}

  static key(baseSha: string, suiteDigest: string, targetDigest: string): string {
    return digestOf({ baseSha, suiteDigest, targetDigest });
  }

  private file(key: string): string | undefined {
    return this.dir === undefined ? undefined : path.join(this.dir, 'eval-base', `${key}.json`);
  }

  async get(key: string): Promise<EvalCaseResult[] | undefined> {
    const file = this.file(key);
    if (!file) return undefined;
    try {
      const parsed = Entry.safeParse(JSON.parse(await readFile(file, 'utf8')));
      return parsed.success ? parsed.data.cases : undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, cases: readonly EvalCaseResult[]): Promise<void> {
    const file = this.file(key);
    if (!file) return;
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify({ cases }));
    await rename(temporary, file);
  }
}
