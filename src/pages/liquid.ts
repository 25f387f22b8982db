import * as fs from 'node:fs';
import * as path from 'node:path';
import { FS, Liquid, LiquidOptions, Template } from 'liquidjs';
import { createError } from '../errors';
import { FileHit, identity, PageFolders, safeRelative, statFile } from './files';

/** RENDER_LIMIT_MS bounds the time of one render (a loop over a huge range is stopped, not waited for). */
const RENDER_LIMIT_MS = 5_000;
/** PARSE_LIMIT bounds the characters of one template parse. */
const PARSE_LIMIT = 4 * 2 ** 20;

/** refused is the error of a template file name that could reach outside the page folders. */
function refused(file: string): Error {
  return createError('REMON_ERR_PAGE_PATH', `"${file.slice(0, 200)}" is not a page file: templates include and lay out files of the page folders only, named relative to a folder, without ".."`);
}

/**
 * pageFs is the file system liquidjs sees: names are resolved inside the page folders
 * only (absolute names, `..`, backslashes, NULs and dot files are refused with an error),
 * and a file counts only when its real path lies inside its folder (no symlink out).
 */
function pageFs(folders: PageFolders): FS {
  const within = (root: string, file: string): boolean => {
    const st = statFile(file);
    return st !== undefined && folders.folderOf(file) === root && folders.contains(root, file, st);
  };
  return {
    resolve(dir: string, file: string, ext: string): string {
      const rel = safeRelative(file);
      if (rel === undefined) throw refused(file);
      return path.join(dir, path.extname(rel) ? rel : rel + ext);
    },
    existsSync: (file) => statFile(file) !== undefined,
    exists: async (file) => statFile(file) !== undefined,
    readFileSync: (file) => fs.readFileSync(file, 'utf8'),
    readFile: (file) => fs.promises.readFile(file, 'utf8'),
    containsSync: within,
    contains: async (root, file) => within(root, file),
    dirname: (file) => path.dirname(file),
    sep: path.sep,
  };
}

type Cached = { file: string; id: string; tpls: Template[] | Promise<Template[]> };

/**
 * statCache is liquidjs's cache of parsed includes and layouts, kept per name while the
 * file the name finds (the first folder's) keeps its identity: a new file in an earlier
 * folder, a changed or a removed one is parsed (or missed) again on the next render.
 */
function statCache(folders: PageFolders): NonNullable<LiquidOptions['cache']> & object {
  const entries = new Map<string, Cached>();
  const lookup = (key: string): FileHit | undefined => {
    const rel = safeRelative(key.slice(key.indexOf(':') + 1));
    return rel === undefined ? undefined : folders.find(rel);
  };
  return {
    read(key) {
      const e = entries.get(key);
      if (!e) return undefined;
      const hit = lookup(key);
      if (hit && hit.file === e.file && identity(hit.stat) === e.id) return e.tpls;
      entries.delete(key);
      return undefined;
    },
    write(key, tpls) {
      const hit = lookup(key);
      if (!hit) return;
      if (entries.size > 1000) entries.clear();
      entries.set(key, { file: hit.file, id: identity(hit.stat), tpls });
    },
    remove(key) {
      entries.delete(key);
    },
  };
}

/**
 * createLiquid makes the template engine of a set of page folders: output escaped by
 * default (`| raw` opts out), includes, renders and layouts looked up in the folders in
 * order and nowhere else, parsed templates kept while their files are unchanged, and a
 * render bounded in time.
 */
export function createLiquid(folders: PageFolders): Liquid {
  const dirs = [...folders.dirs];
  return new Liquid({
    root: dirs,
    partials: dirs,
    layouts: dirs,
    relativeReference: false,
    extname: '',
    outputEscape: 'escape',
    fs: pageFs(folders),
    cache: statCache(folders),
    renderLimit: RENDER_LIMIT_MS,
    parseLimit: PARSE_LIMIT,
    ownPropertyOnly: true,
    strictFilters: true,
  });
}
