/**
 * The durable record: `openStore({ dbPath })` for SQLite or `openStore({ databaseUrl })` for
 * PostgreSQL, both behind one StorageBackend.
 */
export { openStore, DEFAULT_DB_PATH, type StoreConnection } from './open-store.js';
export { resolveStoreConnection } from './resolve-store-connection.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
export type * from './types.js';
