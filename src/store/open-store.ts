import { QfError } from '../errors.js';
import { migrate } from './migrate.js';
import { SqlStore } from './sql-store.js';
import type { SqlDriver } from './sql-driver.js';
import type { StorageBackend } from './types.js';
import type { StoreConnection } from './resolve-store-connection.js';

export { DEFAULT_DB_PATH, type StoreConnection } from './resolve-store-connection.js';

/**
 * Opens the store and brings its schema up to date. Throws QfError('STORE_ERROR') for a file that
 * is not a database, a schema newer than this qf, or a server that cannot be reached.
 */
export async function openStore(connection: StoreConnection): Promise<StorageBackend> {
  // Each driver (a native addon, a network client) loads only when its backend is used.
  const driver: SqlDriver =
    'databaseUrl' in connection
      ? await (await import('./postgres-driver.js')).openPostgresDriver(connection.databaseUrl)
      : await (await import('./sqlite-driver.js')).openSqliteDriver(connection.dbPath);
  try {
    await migrate(driver);
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error instanceof QfError ? error : new QfError('STORE_ERROR', `${driver.location}: cannot prepare the schema`, { cause: error });
  }
  return new SqlStore(driver);
}
