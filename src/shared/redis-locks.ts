import { checkName, checkTtl, lockTimeout, notHeld, sleep } from './common';
import { RedisConn } from './redis-conn';
import { LockHandle, LockInfo, LockOptions, Locks } from './shared';

/** parseHolder splits the lock value "<token> <owner>". */
function parseHolder(value: string | null | undefined): { token: number; owner: string } | undefined {
  if (!value) return undefined;
  const i = value.indexOf(' ');
  return { token: Number(value.slice(0, i)), owner: value.slice(i + 1) };
}

/**
 * RedisLocks: a lock is a key set with PX ttl holding "<token> <owner>", granted by a script
 * that takes the next fencing token from the lock's own INCR counter; release and extend
 * are scripts that act only when the key still holds this grant's value. A waiter polls,
 * sleeping no longer than the holder's remaining ttl.
 */
export class RedisLocks implements Locks {
  constructor(
    private readonly c: RedisConn,
    private readonly owner: string,
  ) {}

  async acquire(name: string, options: LockOptions): Promise<LockHandle> {
    checkName('lock', name);
    checkTtl(options.ttlMs);
    const waitMs = Math.max(0, options.waitMs ?? 0);
    const deadline = Date.now() + waitMs;
    for (let attempt = 0; ; attempt++) {
      const r = await this.attempt(name, options.ttlMs);
      if ('handle' in r) return r.handle;
      const now = Date.now();
      if (now >= deadline) throw lockTimeout(name, waitMs, r.holder);
      // Back off 2 ms → 50 ms with jitter, never past the holder's expiry or the deadline.
      const backoff = Math.min(50, 2 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random());
      await sleep(Math.max(1, Math.min(backoff, r.pttl > 0 ? r.pttl : backoff, deadline - now)));
    }
  }

  async tryAcquire(name: string, options: { ttlMs: number }): Promise<LockHandle | undefined> {
    checkName('lock', name);
    checkTtl(options.ttlMs);
    const r = await this.attempt(name, options.ttlMs);
    return 'handle' in r ? r.handle : undefined;
  }

  extend(handle: LockHandle, ttlMs: number): Promise<LockHandle> {
    return this.c.run('lock.extend', async () => {
      checkTtl(ttlMs);
      const t0 = Date.now();
      const r = (await this.c.op('remonLockExtend', this.c.key('l:', handle.name), `${handle.token} ${handle.owner}`, ttlMs)) as [number, string | null];
      if (r[0] !== 1) throw notHeld(handle, parseHolder(r[1]));
      return { ...handle, expiresAt: t0 + ttlMs };
    });
  }

  release(handle: LockHandle): Promise<void> {
    return this.c.run('lock.release', async () => {
      const r = (await this.c.op('remonLockRelease', this.c.key('l:', handle.name), `${handle.token} ${handle.owner}`)) as [number, string | null];
      if (r[0] !== 1) throw notHeld(handle, parseHolder(r[1]));
    });
  }

  isLocked(name: string): Promise<boolean> {
    return this.c.run('lock.isLocked', async () => (await this.c.op('remonLockExists', this.c.key('l:', name))) === 1);
  }

  list(): Promise<LockInfo[]> {
    return this.c.run('lock.list', async () => {
      const names = await this.c.scanNames('l:');
      const now = Date.now();
      const rows = await Promise.all(names.map(async (name) => {
        const key = this.c.key('l:', name);
        const [value, pttl] = await Promise.all([this.c.client.get(key), this.c.client.pttl(key)]);
        const h = parseHolder(value);
        return h && pttl > 0 ? { name, token: h.token, owner: h.owner, expiresAt: now + pttl } : undefined;
      }));
      return rows.filter((r): r is LockInfo => r !== undefined);
    });
  }

  private attempt(name: string, ttlMs: number): Promise<{ handle: LockHandle } | { holder?: { token: number; owner: string }; pttl: number }> {
    return this.c.run('lock.acquire', async () => {
      // The grant starts no earlier than now, so expiresAt errs on the early side.
      const t0 = Date.now();
      const r = (await this.c.op('remonLockAcquire', this.c.key('l:', name), this.c.key('f:', name), this.owner, Math.ceil(ttlMs))) as [number, string, number?];
      if (r[0] > 0) return { handle: { name, token: r[0], owner: this.owner, expiresAt: t0 + ttlMs } };
      return { holder: parseHolder(r[1]), pttl: r[2] ?? 0 };
    });
  }
}
