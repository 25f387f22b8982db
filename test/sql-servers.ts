/**
 * Real database servers for the sql block's tests and benchmark: PostgreSQL (initdb +
 * postgres) and MariaDB (mariadb-install-db + mariadbd), each on a free loopback port in a
 * temporary directory, durability off (fsync=off, no binlog) for a fast start, with a
 * password-authenticated user, stopped after. PostgreSQL refuses to run as root: it runs
 * as the `postgres` user then (setpriv), in a directory it owns.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import * as mysql from 'mysql2/promise';
import { freePort, stopChild, tmpDir } from './helpers';
import { requirePeer } from './peers';

/** DbServer is a running server: a URL with the password, and a way to run SQL as its admin. */
export interface DbServer {
  kind: 'postgres' | 'mariadb';
  port: number;
  /** URL with user and password (the password is PASSWORD). */
  url: string;
  password: string;
  /** sql runs statements as the admin and answers rows as objects. */
  sql(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

/** PASSWORD is the test user's password: distinctive, so a test can look for it anywhere. */
export const PASSWORD = 'Sekr3t-pw_9f4c';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** postgresPresent: initdb and postgres are installed. */
export function postgresPresent(): boolean {
  return fs.existsSync(path.join(PG_BIN, 'postgres')) && fs.existsSync(path.join(PG_BIN, 'initdb'));
}

/** mariadbPresent: mariadbd and mariadb-install-db are installed. */
export function mariadbPresent(): boolean {
  return which('mariadbd') !== undefined && which('mariadb-install-db') !== undefined;
}

/** asPostgres prefixes a command so it runs as the postgres user when we are root. */
function asPostgres(cmd: string[]): string[] {
  if (process.getuid?.() !== 0) return cmd;
  return ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...cmd];
}

async function until(what: string, child: ChildProcess, ms: number, ready: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode})`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`${what} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** startPostgres makes a cluster (user postgres, password PASSWORD, scram) and starts it. */
export async function startPostgres(): Promise<DbServer> {
  const dir = tmpDir('remon-pg-');
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  fs.mkdirSync(sock);
  const pwfile = path.join(dir, 'pw');
  fs.writeFileSync(pwfile, `${PASSWORD}\n`);
  if (process.getuid?.() === 0) spawnSync('chown', ['-R', 'postgres:postgres', dir]);
  fs.chmodSync(dir, 0o755);
  const init = asPostgres([path.join(PG_BIN, 'initdb'), '-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8', '--locale=C']);
  const r = spawnSync(init[0], init.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout}`);
  const port = await freePort();
  const cmd = asPostgres([
    path.join(PG_BIN, 'postgres'), '-D', data, '-p', String(port), '-k', sock, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=32MB', '-c', 'max_connections=40',
  ]);
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => { stderr = (stderr + d.toString()).slice(-4000); });
  process.once('exit', () => child.kill('SIGKILL'));
  const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const sql = async (text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>> => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(text, params)).rows;
    } finally {
      await c.end();
    }
  };
  try {
    await until('postgres', child, 30_000, async () => (await sql('SELECT 1 AS one')).length === 1);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${stderr}`);
  }
  return { kind: 'postgres', port, url, password: PASSWORD, sql, stop: () => stopChild(child, 5000) };
}

/** startMariadb makes a datadir and starts mariadbd; user remon@127.0.0.1 has PASSWORD and all rights on database remon. */
export async function startMariadb(): Promise<DbServer> {
  const dir = tmpDir('remon-maria-');
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'mysqld.sock');
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  const r = spawnSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=socket', '--skip-test-db'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mariadb-install-db failed: ${r.stderr || r.stdout}`);
  const port = await freePort();
  const child = spawn('mariadbd', [
    '--no-defaults', `--datadir=${data}`, ...user, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${sock}`,
    `--pid-file=${path.join(dir, 'pid')}`, '--skip-log-bin', '--innodb-flush-log-at-trx-commit=0', '--innodb-buffer-pool-size=32M',
    '--skip-name-resolve', `--log-error=${path.join(dir, 'error.log')}`,
  ], { stdio: ['ignore', 'ignore', 'ignore'] });
  process.once('exit', () => child.kill('SIGKILL'));
  let database: string | undefined;
  const sql = async (text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>> => {
    const c = await mysql.createConnection({ socketPath: sock, user: 'root', database, multipleStatements: true, timezone: 'Z' });
    try {
      const [rows] = await c.query(text, params);
      return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
    } finally {
      await c.end();
    }
  };
  try {
    await until('mariadbd', child, 30_000, async () => (await sql('SELECT 1 AS one')).length === 1);
  } catch (err) {
    child.kill('SIGKILL');
    const log = fs.existsSync(path.join(dir, 'error.log')) ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-2000) : '';
    throw new Error(`${(err as Error).message}: ${log}`);
  }
  await sql(`CREATE DATABASE remon; CREATE USER 'remon'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}'; GRANT ALL ON remon.* TO 'remon'@'127.0.0.1'`);
  database = 'remon';
  const url = `mysql://remon:${PASSWORD}@127.0.0.1:${port}/remon`;
  return { kind: 'mariadb', port, url, password: PASSWORD, sql, stop: () => stopChild(child, 10_000) };
}

/**
 * useDb starts a server for the enclosing mocha suite (skipped loudly, or failing under
 * REMON_REQUIRE_INTEGRATION=1, when it is not installed) and stops it after.
 */
export function useDb(kind: 'postgres' | 'mariadb'): { readonly server: DbServer } {
  let server: DbServer | undefined;
  before(async function () {
    this.timeout(60_000);
    if (kind === 'postgres') requirePeer(this, 'postgresql', postgresPresent(), 'apt-get install postgresql');
    else requirePeer(this, 'mariadb-server', mariadbPresent(), 'apt-get install mariadb-server');
    server = kind === 'postgres' ? await startPostgres() : await startMariadb();
  });
  after(async function () {
    this.timeout(20_000);
    await server?.stop();
  });
  return {
    get server(): DbServer {
      if (!server) throw new Error('the database server is not running');
      return server;
    },
  };
}
