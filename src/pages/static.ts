import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { decodeUrlPath, FileHit, PageFolders, StatCache, statFile } from './files';

/** CACHE_MAX_BYTES: static files up to this size are kept in memory while unchanged; larger ones are streamed. */
const CACHE_MAX_BYTES = 1024 * 1024;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** contentType is a file's media type by its extension (application/octet-stream when unknown). */
export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** chartJsFile is chart.js's UMD build from the installed package (never a CDN), or undefined when it is not installed. */
export function chartJsFile(): string | undefined {
  try {
    // The package's exports name no dist files; its main file sits beside the UMD build.
    return path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  } catch {
    return undefined;
  }
}

/**
 * StaticFiles answers `/static/<path>` from the first page folder holding `static/<path>`
 * (and `/static/chart.js` from the installed chart.js): the path is decoded segment by
 * segment and refused when it could leave the folder (`..`, an encoded separator, a NUL, a
 * dot file, a link out); an unchanged file answers 304 to its ETag.
 */
export class StaticFiles {
  private readonly bodies = new StatCache<Buffer>();
  private readonly chart = chartJsFile();

  constructor(private readonly folders: () => PageFolders) {}

  /** find is the file a raw URL path after /static/ names, if it may be served. */
  find(raw: string): FileHit | undefined {
    const rel = decodeUrlPath(raw);
    if (rel === undefined) return undefined;
    if (rel === 'chart.js' && this.chart) {
      const st = statFile(this.chart);
      if (st) return { file: this.chart, folder: path.dirname(this.chart), stat: st };
    }
    return this.folders().find(`static/${rel}`);
  }

  /** serve answers the file (GET or HEAD); false when there is none, so the caller answers 404. */
  serve(req: IncomingMessage, res: ServerResponse, raw: string): boolean {
    const hit = this.find(raw);
    if (!hit) return false;
    const { stat } = hit;
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers = {
      'content-type': contentType(hit.file),
      etag,
      'last-modified': stat.mtime.toUTCString(),
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    if (stat.size > CACHE_MAX_BYTES) {
      res.writeHead(200, { ...headers, 'content-length': stat.size });
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(hit.file).on('error', () => res.destroy()).pipe(res);
      return true;
    }
    let body: Buffer;
    try {
      body = this.bodies.get(hit.file, stat, () => fs.readFileSync(hit.file));
    } catch {
      return false; // removed between the stat and the read
    }
    res.writeHead(200, { ...headers, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}
