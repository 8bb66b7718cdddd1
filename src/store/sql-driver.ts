/** What the shared SQL store needs from a database: two ways to query and a transaction. */
export interface SqlExecutor {
  /** Rows of a query; `?` placeholders in order. */
  all<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** A statement; returns how many rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
}

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlDriver extends SqlExecutor {
  readonly dialect: SqlDialect;
  /** For messages: never holds a password. */
  readonly location: string;
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, lockKey?: string): Promise<T>;
  close(): Promise<void>;
}
