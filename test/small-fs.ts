/**
 * SmallFs is a tmpfs of a few MB that a test mounts (as root) to fill up or remount
 * read-only: the real ENOSPC and EROFS a full or read-only node.data gives.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from './helpers';

/** smallFsUnavailable says why a tmpfs cannot be mounted here, or undefined when it can. */
export function smallFsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a small tmpfs needs root';
  try {
    SmallFs.mount(1).unmount();
  } catch (err) {
    return `cannot mount a tmpfs: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/** requireSmallFs skips the suite (loudly) without a tmpfs, or fails it under REMON_REQUIRE_INTEGRATION=1. */
export function requireSmallFs(ctx: Mocha.Context, what: string): void {
  const why = smallFsUnavailable();
  if (!why) return;
  if (process.env.REMON_REQUIRE_INTEGRATION === '1') throw new Error(`${why}; REMON_REQUIRE_INTEGRATION=1 requires the ${what}`);
  console.warn(`\n  !!! SKIPPED: ${what}: ${why}\n`);
  ctx.skip();
}

/** SmallFs is one mounted tmpfs. */
export class SmallFs {
  private constructor(readonly dir: string) {}

  /** mount mounts a tmpfs of sizeMb MB on a fresh directory. */
  static mount(sizeMb: number): SmallFs {
    const dir = tmpDir('remon-smallfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return new SmallFs(dir);
  }

  /** fill writes a filler file until the file system is full; returns its path. */
  fill(): string {
    const file = path.join(this.dir, 'filler');
    const fd = fs.openSync(file, 'a');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
        for (;;) {
          try {
            fs.writeSync(fd, chunk, 0, size);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
            break;
          }
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    return file;
  }

  /** remount makes the file system read-only (ro) or writable again (rw). */
  remount(mode: 'ro' | 'rw'): void {
    execFileSync('mount', ['-o', `remount,${mode}`, this.dir], { stdio: 'pipe' });
  }

  /** unmount unmounts it (lazily if a file is still open there, so no mount outlives the test). */
  unmount(): void {
    try {
      execFileSync('umount', [this.dir], { stdio: 'pipe' });
    } catch (err) {
      execFileSync('umount', ['-l', this.dir], { stdio: 'pipe' });
      throw err;
    }
  }
}
