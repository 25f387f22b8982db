/**
 * A real redis-server for the shared-backend tests and benchmark: started on a free
 * loopback port with persistence off, in a temporary directory, and stopped after.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { freePort, stopChild, tmpDir } from './helpers';
import { requirePeer } from './peers';

export interface RedisServer {
  port: number;
  url: string;
  /** stop ends the server (SIGTERM, then SIGKILL) and waits for it. */
  stop(): Promise<void>;
  /** start starts it again on the same port (after stop), empty. */
  start(): Promise<void>;
}

/** redisServerPath is the redis-server binary, or undefined when it is not installed. */
export function redisServerPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

/** startRedis starts redis-server on a free loopback port; it answers PING when this resolves. */
export async function startRedis(): Promise<RedisServer> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const port = await freePort();
  const dir = tmpDir('remon-redis-');
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const c = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child = c;
    const end = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`redis-server exited with ${c.exitCode}`);
      if (await ping(port)) return;
      if (Date.now() > end) throw new Error(`redis-server did not answer on port ${port}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await stopChild(c, 3000);
  };
  await start();
  process.once('exit', () => child?.kill('SIGKILL'));
  return { port, url: `redis://127.0.0.1:${port}`, stop, start };
}

/** ping tells whether a Redis server answers PING on the port. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(500);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * useRedis starts a redis-server for the enclosing mocha suite (skipped loudly, or failing
 * under REMON_REQUIRE_INTEGRATION=1, when it is not installed) and stops it after.
 */
export function useRedis(): { readonly server: RedisServer; readonly url: string } {
  let server: RedisServer | undefined;
  before(async function () {
    this.timeout(20_000);
    requirePeer(this, 'redis-server', redisServerPath() !== undefined, 'apt-get install redis-server');
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });
  return {
    get server() {
      return server!;
    },
    get url() {
      return server!.url;
    },
  };
}
