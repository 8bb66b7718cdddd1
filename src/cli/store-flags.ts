import { resolveStoreConnection, type StoreConnection } from '../store/resolve-store-connection.js';

/** The `--db PATH | --database-url URL` flags every store-backed command takes, for parseArgs. */
export const STORE_FLAGS = {
  db: { type: 'string' },
  'database-url': { type: 'string' },
} as const;

/** The connection those flags name (see resolveStoreConnection for the default and the checks). */
export function storeConnectionFromFlags(values: { db?: string; 'database-url'?: string }, options: { mustExist?: boolean } = {}): StoreConnection {
  return resolveStoreConnection(
    { ...(values.db !== undefined ? { db: values.db } : {}), ...(values['database-url'] !== undefined ? { databaseUrl: values['database-url'] } : {}) },
    options,
  );
}
