import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQfError } from '../../src/errors.js';
import { openStore, type PageKey, type PageQuery } from '../../src/store/index.js';
import type { SqlDriver } from '../../src/store/sql-driver.js';
import { pageSql } from '../../src/store/sql-pages.js';
import { openSqliteDriver } from '../../src/store/sqlite-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'qf-pages-'));
let driver: SqlDriver;
beforeAll(async () => {
  const dbPath = join(dir, 'qf.db');
  await (await openStore({ dbPath })).close();
  driver = await openSqliteDriver(dbPath);
});
afterAll(async () => {
  await driver?.close();
  rmSync(dir, { recursive: true, force: true });
});

const P = 'acme/shop';
const T = '2026-01-01T00:00:00.000Z';
/** Every list query the HTTP API makes, with a cursor of its key's shape. */
const QUERIES: Array<[PageQuery, PageKey]> = [
  [{ of: 'projects' }, ['acme/a']],
  [{ of: 'runs', projectId: P }, [T, 'r1']],
  [{ of: 'runs', projectId: P, verdict: 'fail' }, [T, 'r1']],
  [{ of: 'runs', projectId: P, headSha: 'a'.repeat(40) }, [T, 'r1']],
  [{ of: 'runs', projectId: P, branch: 'main' }, [T, 'r1']],
  [{ of: 'artifacts', projectId: P }, [T, 'a1']],
  [{ of: 'artifacts', projectId: P, type: 'step:unit' }, [T, 'a1']],
  [{ of: 'artifacts', projectId: P, runId: 'r1' }, [T, 'a1']],
  [{ of: 'conflicts', projectId: P }, [T, 'c1']],
  [{ of: 'conflicts', projectId: P, status: 'open' }, [T, 'c1']],
  [{ of: 'approvals', projectId: P }, [T, 'plan', 'octocat']],
  [{ of: 'approvals', projectId: P, since: T, until: '2026-02-01' }, [T, 'plan', 'octocat']],
  [{ of: 'checkpoints', projectId: P }, [T, 'cp1']],
  [{ of: 'audit', projectId: P }, [`project:${P}`, 10]],
  [{ of: 'audit', projectId: P, chain: `project:${P}` }, [`project:${P}`, 10]],
  [{ of: 'audit', projectId: P, action: 'bot.approval.recorded' }, [`project:${P}`, 10]],
  [{ of: 'audit', projectId: P, actor: 'octocat' }, [`project:${P}`, 10]],
  [{ of: 'audit' }, [`project:${P}`, 10]],
  [{ of: 'audit', actor: 'octocat' }, [`project:${P}`, 10]],
];

/** SQLite's plan, one line per step, with each line's parent steps before it. */
async function planOf(query: PageQuery, after?: PageKey): Promise<string[]> {
  const { sql, params } = pageSql(query, { limit: 30, ...(after ? { after } : {}) });
  return (await driver.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((row) => row.detail);
}

describe('page queries (SQLite plans, from the schema alone)', () => {
  it.each(QUERIES)('%j reads an index range in page order, first page and after a cursor', async (query, after) => {
    for (const plan of [await planOf(query), await planOf(query, after)]) {
      const tables = plan.filter((line) => /^(SCAN|SEARCH) (?!b\d+$)/.test(line));
      expect(tables.length, plan.join('\n')).toBeGreaterThan(0);
      for (const line of tables) {
        // A search by an index's leading columns, or (no filter at all) the walk of an index in key order.
        expect(line, plan.join('\n')).toMatch(
          /^(SEARCH \w+ (EXISTS )?USING (COVERING )?INDEX \w+ \(|SCAN (projects|audit_events) USING (COVERING )?INDEX \w+$)/,
        );
      }
      // Sorting is allowed only on the union's few rows (each branch is at most LIMIT + 1), never on a table's.
      plan.forEach((line, i) => {
        if (line.includes('TEMP B-TREE')) expect(plan[i - 1], plan.join('\n')).toMatch(/^SCAN b\d+$/);
      });
    }
  });

  it('pages of one audit chain range over (chain, seq) from the cursor', async () => {
    expect(await planOf({ of: 'audit', chain: 'run:r1' }, ['run:r1', 10])).toEqual([
      expect.stringMatching(/^SEARCH audit_events USING INDEX sqlite_autoindex_audit_events_1 \(chain=\? AND seq>\?\)$/),
    ]);
  });

  it('refuses a cursor of another shape', () => {
    const error = (() => {
      try {
        pageSql({ of: 'runs', projectId: P }, { limit: 10, after: ['x'] });
      } catch (e) {
        return e;
      }
    })();
    expect(isQfError(error, 'BAD_INPUT')).toBe(true);
    expect((error as Error).message).toBe('a cursor of runs has 2 values, this one 1');
  });
});
