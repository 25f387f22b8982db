import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JsonSchema } from '../engine/block';
import { suggest } from '../config/messages';
import type { CheckContext, ConfigSection, SectionIssue } from '../config/section';

/** WebConfig is the built `web:` section: the page folders (absolute, in search order) and the status page. */
export interface WebConfig {
  /**
   * The user's page folders, searched in order before the built-in one. The default
   * `./web` beside monitor.yaml is listed only when it exists.
   */
  pages: string[];
  status: StatusConfig;
}

/** StatusConfig is `web.status`: the public status page's title and the SLAs it shows (all when unset). */
export interface StatusConfig {
  title: string;
  slas?: string[];
}

declare module '../config/types' {
  interface Config {
    /** `web:` drop-in pages and the status page (src/pages); defaults when absent. */
    web: WebConfig;
  }
}

interface RawWeb {
  pages?: string[];
  status?: { title?: string; slas?: string[] };
}

/** DEFAULT_PAGES is the page folder a node uses without `web.pages`, beside monitor.yaml. */
export const DEFAULT_PAGES = './web';
/** DEFAULT_STATUS_TITLE is the status page's heading without `web.status.title`. */
export const DEFAULT_STATUS_TITLE = 'Service status';

const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  'x-expected': 'a mapping with pages and status',
  description: 'The web UI: folders of drop-in pages and the public status page (docs/pages.md).',
  properties: {
    pages: {
      type: 'array',
      items: { type: 'string', minLength: 1, 'x-expected': 'a folder path' },
      'x-expected': 'a list of folders, e.g. [./web]',
      description: 'Folders of drop-in pages, searched in order, then the built-in pages (default: ./web beside monitor.yaml).',
    },
    status: {
      type: 'object',
      additionalProperties: false,
      'x-expected': 'a mapping with title and slas',
      description: 'The public status page (/status) and badges (/badge/<sla>.svg); no token needed.',
      properties: {
        title: { type: 'string', minLength: 1, maxLength: 200, 'x-expected': 'text' },
        slas: {
          type: 'array',
          items: { type: 'string', minLength: 1, 'x-expected': 'an SLA name' },
          'x-expected': 'a list of SLA names',
          description: 'The SLAs the status page and badges show (default: all).',
        },
      },
    },
  },
};

/** slaNames are the names of `slas:` entries in the raw document, whatever its shape. */
function slaNames(raw: Readonly<Record<string, unknown>>): string[] {
  const list = raw.slas;
  if (!Array.isArray(list)) return [];
  return list.flatMap((s) => (typeof (s as { name?: unknown })?.name === 'string' ? [(s as { name: string }).name] : []));
}

/** check: each listed page folder exists and is a folder; each status SLA is configured ("did you mean"). */
function check(raw: unknown, ctx: CheckContext): SectionIssue[] {
  const issues: SectionIssue[] = [];
  const w = (raw ?? {}) as RawWeb;
  if (Array.isArray(w.pages)) {
    w.pages.forEach((p, i) => {
      if (typeof p !== 'string' || p === '') return;
      const dir = path.resolve(ctx.dir, p);
      let st: fs.Stats | undefined;
      try {
        st = fs.statSync(dir);
      } catch {
        issues.push({ path: ['web', 'pages', i], message: `the folder "${p}" does not exist (a relative path is read from the config file's folder); create it or remove it from web.pages` });
        return;
      }
      if (!st.isDirectory()) issues.push({ path: ['web', 'pages', i], message: `"${p}" is a file; expected a folder of pages` });
    });
  }
  const wanted = w.status?.slas;
  if (Array.isArray(wanted)) {
    const names = slaNames(ctx.raw);
    wanted.forEach((n, i) => {
      if (typeof n !== 'string' || names.includes(n)) return;
      const near = suggest(n, names);
      const hint = near ? `did you mean "${near}"?` : names.length ? `expected one of: ${names.join(', ')}` : 'no SLAs are configured (slas:)';
      issues.push({ path: ['web', 'status', 'slas', i], message: `no SLA is named "${n}"; ${hint}` });
    });
  }
  return issues;
}

/** buildWeb resolves the folders against the config's directory and fills defaults. */
export function buildWeb(raw: RawWeb | undefined, dir: string): WebConfig {
  const listed = raw?.pages;
  let pages: string[];
  if (listed) pages = listed.map((p) => path.resolve(dir, p));
  else {
    const dflt = path.resolve(dir, DEFAULT_PAGES);
    pages = fs.existsSync(dflt) ? [dflt] : [];
  }
  const status: StatusConfig = { title: raw?.status?.title ?? DEFAULT_STATUS_TITLE };
  if (raw?.status?.slas) status.slas = [...raw.status.slas];
  return { pages, status };
}

/**
 * webSection declares `web:`: the folders of drop-in pages (searched in order, the built-in
 * pages last) and the status page. A listed folder that is missing is an error; the
 * default `./web` may be missing. Changes apply on reload.
 */
export const webSection: ConfigSection<'web', RawWeb> = {
  key: 'web',
  reload: 'live',
  after: ['slas'],
  schema,
  check,
  build: (raw, ctx) => buildWeb(raw, ctx.dir),
};
