import * as fs from 'node:fs';
import * as path from 'node:path';
import { createError, ErrorCode, errorMessage } from '../errors';

/**
 * A directory under node.data that one process writes (the RRD store, the heartbeat
 * journal, persistent shared state) holds a LOCK file with that process's pid. A second
 * remon on the same node.data is refused with a clear error instead of interleaving its
 * writes; a LOCK left by a process that died (kill -9) is taken over.
 */

/** Directories this process holds; a second claim would interleave two writers. */
const held = new Set<string>();

export interface DirClaim {
  /** release removes the LOCK; the directory may be claimed again. */
  release(): void;
}

/**
 * claimDir claims `dir` (which exists) for this process, or throws `code`: "<what> in <dir>
 * is in use by process N; two nodes cannot share one node.data".
 */
export function claimDir(dir: string, code: ErrorCode, what: string): DirClaim {
  const abs = path.resolve(dir);
  if (held.has(abs)) throw createError(code, `${what} in ${abs} is open already in this process`);
  const lock = path.join(abs, 'LOCK');
  // The pid is written to a file of our own, then linked to LOCK: the link either makes the
  // whole LOCK or fails because one exists, so no one ever reads a LOCK without its pid.
  const mine = path.join(abs, `LOCK.${process.pid}`);
  try {
    fs.writeFileSync(mine, `${process.pid}\n`);
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(mine, lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
        const owner = ownerOf(lock);
        if (owner !== undefined && owner !== process.pid && pidAlive(owner)) {
          throw createError(code, `${what} in ${abs} is in use by process ${owner}; two nodes cannot share one node.data`);
        }
        // Left by a process that is gone (or by this one, before it restarted in place).
        fs.rmSync(lock, { force: true });
      }
    }
  } catch (err) {
    if ((err as { code?: string }).code === code) throw err;
    throw createError(code, `cannot lock ${abs} for ${what}: ${errorMessage(err)}`, err);
  } finally {
    fs.rmSync(mine, { force: true });
  }
  held.add(abs);
  return {
    release: () => {
      if (held.delete(abs)) fs.rmSync(lock, { force: true });
    },
  };
}

function ownerOf(lock: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lock, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
