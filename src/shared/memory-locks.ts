import { checkName, checkTtl, lockTimeout, notHeld } from './common';
import { LockHandle, LockInfo, LockOptions, Locks } from './shared';

interface Grant {
  token: number;
  owner: string;
  expiresAt: number;
}

/**
 * MemoryLocks: locks of one process. A grant ends when released or when its ttl passes
 * (checked on every look, so an abandoned grant needs no timer). Waiters are woken by a
 * release and by the current grant's expiry, and retry; the first to run wins.
 */
export class MemoryLocks implements Locks {
  private readonly held = new Map<string, Grant>();
  private readonly fences = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly owner: string) {}

  async acquire(name: string, options: LockOptions): Promise<LockHandle> {
    checkName('lock', name);
    checkTtl(options.ttlMs);
    const waitMs = Math.max(0, options.waitMs ?? 0);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const h = this.grant(name, options.ttlMs);
      if (h) return h;
      const now = Date.now();
      const current = this.current(name);
      if (now >= deadline) throw lockTimeout(name, waitMs, current);
      await this.wait(name, Math.min(deadline, current ? current.expiresAt : deadline) - now);
    }
  }

  async tryAcquire(name: string, options: { ttlMs: number }): Promise<LockHandle | undefined> {
    checkName('lock', name);
    checkTtl(options.ttlMs);
    return this.grant(name, options.ttlMs);
  }

  async extend(handle: LockHandle, ttlMs: number): Promise<LockHandle> {
    checkTtl(ttlMs);
    const g = this.current(handle.name);
    if (!g || g.token !== handle.token || g.owner !== handle.owner) throw notHeld(handle, g);
    g.expiresAt = Date.now() + ttlMs;
    return { name: handle.name, token: g.token, owner: g.owner, expiresAt: g.expiresAt };
  }

  async release(handle: LockHandle): Promise<void> {
    const g = this.current(handle.name);
    if (!g || g.token !== handle.token || g.owner !== handle.owner) throw notHeld(handle, g);
    this.held.delete(handle.name);
    this.wake(handle.name);
  }

  async isLocked(name: string): Promise<boolean> {
    return this.current(name) !== undefined;
  }

  async list(): Promise<LockInfo[]> {
    const out: LockInfo[] = [];
    for (const name of [...this.held.keys()].sort()) {
      const g = this.current(name);
      if (g) out.push({ name, token: g.token, owner: g.owner, expiresAt: g.expiresAt });
    }
    return out;
  }

  /** close wakes every waiter, so none outlives the backend by more than one retry. */
  close(): void {
    for (const name of [...this.waiters.keys()]) this.wake(name);
  }

  /** current is the live grant of a lock; an expired one is dropped. */
  private current(name: string): Grant | undefined {
    const g = this.held.get(name);
    if (g && Date.now() >= g.expiresAt) {
      this.held.delete(name);
      return undefined;
    }
    return g;
  }

  private grant(name: string, ttlMs: number): LockHandle | undefined {
    if (this.current(name)) return undefined;
    const token = (this.fences.get(name) ?? 0) + 1;
    this.fences.set(name, token);
    const g: Grant = { token, owner: this.owner, expiresAt: Date.now() + ttlMs };
    this.held.set(name, g);
    return { name, token, owner: g.owner, expiresAt: g.expiresAt };
  }

  private wait(name: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(name);
      if (!set) this.waiters.set(name, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        set!.delete(done);
        if (set!.size === 0 && this.waiters.get(name) === set) this.waiters.delete(name);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      set.add(done);
    });
  }

  private wake(name: string): void {
    for (const done of [...(this.waiters.get(name) ?? [])]) done();
  }
}
