import { QfError } from '../errors.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, dialectSql } from './migrations.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';

const META_TABLE = 'CREATE TABLE IF NOT EXISTS qf_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)';

/**
 * Brings the schema to LATEST_SCHEMA_VERSION, each migration in its own transaction, under a lock
 * so two processes opening the same PostgreSQL database at once do not both migrate it.
 */
export async function migrate(driver: SqlDriver): Promise<number> {
  return driver.transaction(async (tx) => {
    await tx.run(META_TABLE);
    const current = await schemaVersion(tx);
    if (current > LATEST_SCHEMA_VERSION) {
      throw new QfError(
        'STORE_ERROR',
        `${driver.location} has schema version ${current}, newer than this qf knows (${LATEST_SCHEMA_VERSION}); upgrade qf or use another database`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      for (const statement of migration.statements) await tx.run(dialectSql(statement, driver.dialect));
      await tx.run(`INSERT INTO qf_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [
        String(migration.version),
      ]);
    }
    return LATEST_SCHEMA_VERSION;
  }, 'qf:migrate');
}

async function schemaVersion(tx: SqlExecutor): Promise<number> {
  const rows = await tx.all<{ value: string }>(`SELECT value FROM qf_meta WHERE key = 'schema_version'`);
  const value = rows[0]?.value;
  if (value === undefined) return 0;
  const version = Number(value);
  if (!Number.isInteger(version) || version < 0) {
    throw new QfError('STORE_ERROR', `qf_meta.schema_version is '${value}'; expected a non-negative integer (the database is damaged)`);
  }
  return version;
}
