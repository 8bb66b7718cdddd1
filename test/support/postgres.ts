import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A real, throwaway PostgreSQL server for tests: initdb into a temp dir, pg_ctl start on a free
 * 127.0.0.1 port, trust auth for user `qf`. initdb refuses to run as root, so as root the binaries
 * run as the `postgres` system user (or `nobody`) through runuser, owning the temp dir.
 * Missing binaries are an error, never a skip: CI must not go green without PostgreSQL.
 */
export interface TestPostgres {
  /** URL of the `postgres` maintenance database. */
  adminUrl: string;
  port: number;
  /** Creates an empty database and returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const bin = findBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'qf-pg-'));
  const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  const exec = (file: string, args: string[]): void => {
    const [command, argv] = runAs ? ['runuser', ['-u', runAs.name, '--', join(bin, file), ...args]] : [join(bin, file), args];
    const result = spawnSync(command, argv, { encoding: 'utf8', cwd: dir });
    if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  const port = await freePort();
  const data = join(dir, 'data');
  exec('initdb', ['-D', data, '-U', 'qf', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  exec('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100`,
    'start',
  ]);
  const adminUrl = `postgres://qf@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    port,
    async createDatabase() {
      const name = `qf_test_${process.pid}_${++counter}`;
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://qf@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      try {
        exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function findBinDir(): string {
  const onPath = (process.env.PATH ?? '').split(':').find((d) => d && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (onPath) return onPath;
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian) ? readdirSync(debian).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) if (existsSync(join(debian, version, 'bin', 'initdb'))) return join(debian, version, 'bin');
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or in /usr/lib/postgresql/*/bin. ' +
      'Install them (Debian: apt-get install postgresql) — the PostgreSQL tests never skip.',
  );
}

function unprivilegedUser(): { name: string; uid: number; gid: number } {
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // try the next candidate
    }
  }
  throw new Error('running as root and neither a `postgres` nor a `nobody` user exists to run initdb as (initdb refuses root)');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
