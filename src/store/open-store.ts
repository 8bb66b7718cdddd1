import { QfError } from '../errors.js';
import { migrate } from './migrate.js';
import { openPostgresDriver } from './postgres-driver.js';
import { openSqliteDriver } from './sqlite-driver.js';
import { SqlStore } from './sql-store.js';
import type { SqlDriver } from './sql-driver.js';
import type { StorageBackend } from './types.js';

export const DEFAULT_DB_PATH = './data/qualityfoundry.db';

/** Where the store lives: a SQLite file (`:memory:` for a throwaway one) or a PostgreSQL URL. */
export type StoreConnection = { dbPath: string } | { databaseUrl: string };

/**
 * Opens the store and brings its schema up to date. Throws QfError('STORE_ERROR') for a file that
 * is not a database, a schema newer than this qf, or a server that cannot be reached.
 */
export async function openStore(connection: StoreConnection): Promise<StorageBackend> {
  const driver: SqlDriver = 'databaseUrl' in connection ? await openPostgresDriver(connection.databaseUrl) : await openSqliteDriver(connection.dbPath);
  try {
    await migrate(driver);
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error instanceof QfError ? error : new QfError('STORE_ERROR', `${driver.location}: cannot prepare the schema`, { cause: error });
  }
  return new SqlStore(driver);
}
