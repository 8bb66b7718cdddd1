import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sqlite3 from 'sqlite3';
import { QfError, errorMessage } from '../errors.js';
import { AsyncMutex } from './async-mutex.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';

/**
 * SQLite through `sqlite3`. WAL lets readers work beside the writer; synchronous=FULL makes a
 * commit durable when it returns (the auditor promises that); BEGIN IMMEDIATE takes the write lock
 * up front so two processes never deadlock upgrading a read lock; busy_timeout makes them queue.
 */
export async function openSqliteDriver(dbPath: string): Promise<SqlDriver> {
  const location = `sqlite:${dbPath}`;
  if (dbPath !== ':memory:') mkdirSync(dirname(dbPath), { recursive: true });
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle = new sqlite3.Database(dbPath, (error) => (error ? reject(error) : resolve(handle)));
  }).catch((error: unknown) => {
    throw new QfError('STORE_ERROR', `cannot open SQLite database ${dbPath}: ${errorMessage(error)}`, { cause: error });
  });
  const raw = rawExecutor(db, location);
  try {
    await raw.run('PRAGMA busy_timeout = 15000');
    await raw.all('PRAGMA journal_mode = WAL');
    await raw.run('PRAGMA synchronous = FULL');
    await raw.run('PRAGMA foreign_keys = ON');
    // Reading the schema catches a file that is not a database (or is damaged) before any write.
    await raw.all('SELECT count(*) AS n FROM sqlite_master');
  } catch (error) {
    db.close();
    throw error;
  }
  const mutex = new AsyncMutex();
  return {
    dialect: 'sqlite',
    location,
    all: (sql, params) => mutex.run(() => raw.all(sql, params)),
    run: (sql, params) => mutex.run(() => raw.run(sql, params)),
    transaction: (fn) =>
      mutex.run(async () => {
        await raw.run('BEGIN IMMEDIATE');
        try {
          const result = await fn(raw);
          await raw.run('COMMIT');
          return result;
        } catch (error) {
          await raw.run('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    close: () => mutex.run(() => new Promise<void>((resolve, reject) => db.close((error) => (error ? reject(error) : resolve())))),
  };
}

function rawExecutor(db: sqlite3.Database, location: string): SqlExecutor {
  const fail = (sql: string, error: Error): QfError => {
    const code = (error as { code?: string }).code ?? '';
    const hint = code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' ? ' (the file is not a SQLite database or is damaged)' : '';
    return new QfError('STORE_ERROR', `${location}: ${error.message}${hint} while running: ${sql.trim().split('\n')[0]}`, { cause: error });
  };
  return {
    all: <R>(sql: string, params: unknown[] = []) =>
      new Promise<R[]>((resolve, reject) => db.all(sql, params, (error: Error | null, rows: R[]) => (error ? reject(fail(sql, error)) : resolve(rows)))),
    run: (sql, params = []) =>
      new Promise<number>((resolve, reject) =>
        db.run(sql, params, function (this: sqlite3.RunResult, error: Error | null) {
          if (error) reject(fail(sql, error));
          else resolve(this.changes);
        }),
      ),
  };
}
