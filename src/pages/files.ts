import * as fs from 'node:fs';
import * as path from 'node:path';

/** FileHit is a file found in a page folder: where, which folder, and its stat. */
export interface FileHit {
  file: string;
  folder: string;
  stat: fs.Stats;
}

/** identity says whether a file changed: inode, modification time and size. */
export function identity(st: fs.Stats): string {
  return `${st.ino}:${st.mtimeMs}:${st.size}`;
}

/**
 * safeRelative checks a relative file name given by a URL or a template (`static/app.css`,
 * `nav.html`) and returns it with `/` separators, or undefined when it could name anything
 * outside a folder: absolute, a `..` or `.` segment, an empty segment, a backslash, a NUL,
 * a hidden (dot) file, or a segment too long to be a file name.
 */
export function safeRelative(name: string): string | undefined {
  if (name === '' || name.length > 1024 || name.includes('\0') || name.includes('\\') || path.isAbsolute(name)) return undefined;
  const parts = name.split('/');
  // A segment over 255 bytes is no file name here (the filesystem would refuse it with ENAMETOOLONG).
  for (const p of parts) if (p === '' || p.startsWith('.') || Buffer.byteLength(p) > 255) return undefined;
  return parts.join('/');
}

/**
 * decodeUrlPath decodes a URL path part (`a/b%20c.css`) segment by segment and checks it
 * with safeRelative; a bad %-escape, or an escape that makes a separator or NUL, refuses.
 */
export function decodeUrlPath(raw: string): string | undefined {
  const out: string[] = [];
  for (const seg of raw.split('/')) {
    let d: string;
    try {
      d = decodeURIComponent(seg);
    } catch {
      return undefined;
    }
    if (d.includes('/')) return undefined;
    out.push(d);
  }
  return safeRelative(out.join('/'));
}

/** MAX_CACHED is how many file identities a cache keeps before it starts over. */
const MAX_CACHED = 2000;

/**
 * StatCache keeps a value made from a file (its text, a parsed template, a loaded module)
 * while the file's identity (inode, mtime, size) stays the same: a changed file is made
 * again on the next use, without a restart.
 */
export class StatCache<T> {
  private readonly entries = new Map<string, { id: string; value: T }>();

  get(file: string, st: fs.Stats, make: () => T): T {
    const id = identity(st);
    const e = this.entries.get(file);
    if (e && e.id === id) return e.value;
    const value = make();
    if (this.entries.size >= MAX_CACHED) this.entries.clear();
    this.entries.set(file, { id, value });
    return value;
  }

  /** peek is the value kept for a file of this identity, if any. */
  peek(file: string, st: fs.Stats): T | undefined {
    const e = this.entries.get(file);
    return e && e.id === identity(st) ? e.value : undefined;
  }

  set(file: string, st: fs.Stats, value: T): void {
    if (this.entries.size >= MAX_CACHED) this.entries.clear();
    this.entries.set(file, { id: identity(st), value });
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * statFile is a regular file's stat (following links), or undefined: also for a name the
 * file system refuses (ENAMETOOLONG for a 300-character page name, ENOTDIR, ELOOP, EACCES),
 * which is no page file either.
 */
export function statFile(file: string): fs.Stats | undefined {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  return st?.isFile() ? st : undefined;
}

/**
 * PageFolders are the page folders in search order (the user's, then the built-in one):
 * every file a page, a template or a static URL names is looked up here, and a file is
 * used only when its real path (links followed) lies inside the folder's real path.
 */
export class PageFolders {
  readonly dirs: readonly string[];
  private readonly reals = new Map<string, string>();
  private readonly inside = new StatCache<boolean>();

  constructor(dirs: readonly string[]) {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const d of dirs) {
      const abs = path.resolve(d);
      let real: string;
      try {
        real = fs.realpathSync.native(abs);
      } catch {
        real = abs; // missing now: it may appear later; its files are checked against this path
      }
      if (seen.has(real)) continue;
      seen.add(real);
      out.push(abs);
      this.reals.set(abs, real);
    }
    this.dirs = out;
  }

  /** folderOf is the page folder a path lies in (lexically), if any. */
  folderOf(file: string): string | undefined {
    return this.dirs.find((d) => file === d || file.startsWith(d + path.sep));
  }

  /** contains tells whether file (an existing file) really lies inside folder, links followed. */
  contains(folder: string, file: string, st: fs.Stats): boolean {
    return this.inside.get(`${folder}\0${file}`, st, () => {
      let root = this.reals.get(folder);
      try {
        root = fs.realpathSync.native(folder);
        this.reals.set(folder, root);
        const real = fs.realpathSync.native(file);
        return real.startsWith(root + path.sep);
      } catch {
        return false;
      }
    });
  }

  /** find is the first folder's file at rel (a name safeRelative accepted) that is a regular file inside its folder. */
  find(rel: string): FileHit | undefined {
    for (const folder of this.dirs) {
      const hit = this.at(folder, rel);
      if (hit) return hit;
    }
    return undefined;
  }

  /** at is folder's file at rel, if it is a regular file inside the folder. */
  at(folder: string, rel: string): FileHit | undefined {
    const file = path.join(folder, rel);
    const st = statFile(file);
    if (!st || !this.contains(folder, file, st)) return undefined;
    return { file, folder, stat: st };
  }
}
