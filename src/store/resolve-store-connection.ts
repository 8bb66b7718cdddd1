import { existsSync } from 'node:fs';
import { QfError } from '../errors.js';

export const DEFAULT_DB_PATH = './data/qualityfoundry.db';

/** Where the store lives: a SQLite file (`:memory:` for a throwaway one) or a PostgreSQL URL. */
export type StoreConnection = { dbPath: string } | { databaseUrl: string };

/**
 * The store a command uses, from its `--db PATH` / `--database-url URL` flags: at most one of
 * them, the default SQLite file otherwise. Read-only commands pass `mustExist` so a typo in a path
 * is an error instead of a new, empty database.
 */
export function resolveStoreConnection(flags: { db?: string; databaseUrl?: string }, options: { mustExist?: boolean } = {}): StoreConnection {
  const db = flags.db?.trim() || undefined;
  const databaseUrl = flags.databaseUrl?.trim() || undefined;
  if (db && databaseUrl) throw new QfError('BAD_INPUT', 'both --db and --database-url were given; expected one of them');
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new QfError('BAD_INPUT', `--database-url must start with postgres:// or postgresql://`);
    return { databaseUrl };
  }
  const dbPath = db ?? DEFAULT_DB_PATH;
  if (options.mustExist && dbPath !== ':memory:' && !existsSync(dbPath)) {
    throw new QfError('BAD_INPUT', `no database at ${dbPath}; expected an existing QualityFoundry SQLite file (--db PATH) or --database-url URL`);
  }
  return { dbPath };
}
