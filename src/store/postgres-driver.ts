import pg from 'pg';
import { QfError, errorMessage } from '../errors.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';

/**
 * PostgreSQL through `pg`. Several processes may write at once: each transaction may take an
 * advisory lock on a key (a project, an audit chain) so writers of that key queue instead of
 * racing; unique constraints catch anything else.
 */
export async function openPostgresDriver(databaseUrl: string): Promise<SqlDriver> {
  const location = redact(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 5000 });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new QfError(
      'STORE_ERROR',
      `cannot reach PostgreSQL at ${location}: ${errorMessage(error) || String((error as { code?: string }).code)}; expected a running server at the given database URL`,
      { cause: error },
    );
  }
  const executor = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    all: async <R>(sql: string, params: unknown[] = []) => (await query(client, location, sql, params)).rows as R[],
    run: async (sql, params = []) => (await query(client, location, sql, params)).rowCount ?? 0,
  });
  const shared = executor(pool);
  return {
    dialect: 'postgres',
    location,
    all: shared.all,
    run: shared.run,
    async transaction(fn, lockKey) {
      const client = await pool.connect().catch((error: unknown) => {
        throw new QfError('STORE_ERROR', `cannot reach PostgreSQL at ${location}: ${errorMessage(error)}`, { cause: error });
      });
      const tx = executor(client);
      try {
        await client.query('BEGIN');
        if (lockKey !== undefined) await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function query(client: pg.Pool | pg.PoolClient, location: string, sql: string, params: unknown[]): Promise<pg.QueryResult> {
  try {
    return await client.query(toNumbered(sql), params);
  } catch (error) {
    throw new QfError('STORE_ERROR', `${location}: ${errorMessage(error)} while running: ${sql.trim().split('\n')[0]}`, { cause: error });
  }
}

/** The store writes `?` placeholders (SQLite's); PostgreSQL wants `$1, $2, …`. */
function toNumbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.username = parsed.username ? parsed.username : '';
    return `postgres://${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname}`;
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
