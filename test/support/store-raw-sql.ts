import pg from 'pg';
import sqlite3 from 'sqlite3';
import type { StoreConnection } from '../../src/store/index.js';

/**
 * Runs SQL straight against a store's database with the driver package itself, bypassing our
 * code: how the tamper tests play an attacker with database access.
 */
export async function rawSql(connection: StoreConnection, sql: string, params: unknown[] = []): Promise<void> {
  if ('databaseUrl' in connection) {
    const client = new pg.Client({ connectionString: connection.databaseUrl });
    await client.connect();
    try {
      let n = 0;
      await client.query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      );
    } finally {
      await client.end();
    }
    return;
  }
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle = new sqlite3.Database(connection.dbPath, (error) => (error ? reject(error) : resolve(handle)));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const done = (error: Error | null): void => (error ? reject(error) : resolve());
      // exec takes several statements but no parameters; run takes parameters but one statement.
      if (params.length === 0) db.exec(sql, done);
      else db.run(sql, params, done);
    });
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}
