import type { SeriesCatalog } from '../config/catalog';
import type { CheckContext, ConfigSection, SectionIssue } from '../config/section';
import { checkSeriesExpr, seriesNames } from '../series';
import { findLoops } from './graph';

/** DeriveConfig is one built `derive:` item: a derived series and the expression that makes it. */
export interface DeriveConfig {
  /** The derived series' name, e.g. homepage.fast_ratio. */
  name: string;
  /** The series expression (docs/derive.md), checked. */
  expr: string;
}

declare module '../config/types' {
  interface Config {
    /** `derive:` second-order series (src/derive); empty when absent. */
    derive: DeriveConfig[];
  }
}

interface RawDerive {
  name: string;
  expr: string;
}

/** A series name as the stores accept it: letters, digits, _ . - (no ..), up to 200 characters. */
const NAME_PATTERN = '^(?!.*\\.\\.)[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$';

/**
 * blockMakes tells whether a block makes the series: its up, duration_ms or a field its
 * type declares. Any field of a block whose fields are open "may exist", but a derived
 * series may take such a name.
 */
function blockMakes(catalog: SeriesCatalog, name: string): boolean {
  if (!catalog.has(name)) return false;
  const dot = name.indexOf('.');
  const block = dot < 0 ? name : name.slice(0, dot);
  const field = name.slice(dot + 1);
  return !catalog.isOpen(block) || field === 'up' || field === 'duration_ms';
}

/** text is the string at key of a raw item, if it is one (the schema reports what is not). */
function text(d: unknown, key: 'name' | 'expr'): string | undefined {
  const v = (d as Record<string, unknown> | null)?.[key];
  return typeof d === 'object' && d !== null && typeof v === 'string' ? v : undefined;
}

/**
 * check: each name is new (not a block's series, not derived twice); each expression is a
 * valid series expression over known series (derived ones included, wherever they are in
 * the list); no derived series reads itself through others (a loop is reported at each
 * member, spelled out: `a → b → a`). The derived names go into the catalog for the
 * sections after (slas).
 */
function check(raw: unknown, ctx: CheckContext): SectionIssue[] {
  if (!Array.isArray(raw)) return [];
  const issues: SectionIssue[] = [];
  const derived = new Map<string, number>();
  raw.forEach((d, i) => {
    const name = text(d, 'name');
    if (name === undefined || !ctx.valid(['derive', i, 'name'])) return;
    const at = ['derive', i, 'name'];
    const before = derived.get(name);
    if (before !== undefined) issues.push({ path: at, message: `"${name}" is derived already by derive[${before}]; a derived series has one expression` });
    else if (blockMakes(ctx.catalog, name)) issues.push({ path: at, message: `a block makes a series named "${name}" already; a derived series needs a name of its own` });
    else derived.set(name, i);
  });
  for (const name of derived.keys()) ctx.catalog.add(name);
  const reads = new Map<string, Array<{ name: string; pos: number }>>();
  raw.forEach((d, i) => {
    const expr = text(d, 'expr');
    if (expr === undefined || !ctx.valid(['derive', i, 'expr'])) return;
    const found = checkSeriesExpr(expr, ctx.catalog, ['derive', i, 'expr']);
    issues.push(...found);
    const name = text(d, 'name');
    if (name !== undefined && derived.get(name) === i && found.length === 0) {
      reads.set(name, seriesNames(expr).filter((r) => derived.has(r.name)));
    }
  });
  const loops = findLoops([...reads.keys()], (n) => (reads.get(n) ?? []).map((r) => r.name));
  for (const [name, loop] of loops) {
    const i = derived.get(name)!;
    const ref = reads.get(name)!.find((r) => r.name === loop[1]);
    const message = loop.length === 2
      ? `"${name}" reads itself; a derived series is computed from other series`
      : `derived series read each other in a loop: ${loop.join(' → ')}`;
    issues.push({ path: ['derive', i, 'expr'], message, exprPos: ref?.pos });
  }
  return issues;
}

/**
 * deriveSection declares `derive:`, a list of `{name, expr}`: series computed from other
 * series as their samples arrive, stored and usable like any other (docs/derive.md).
 * Changes apply on reload.
 */
export const deriveSection: ConfigSection<'derive', RawDerive[]> = {
  key: 'derive',
  reload: 'live',
  after: ['blocks', 'peers'],
  schema: {
    type: 'array',
    description: 'Derived (second-order) series: each a name and a series expression over other series.',
    'x-expected': 'a list of derived series, each { name, expr }',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'expr'],
      'x-expected': 'a derived series: a mapping with name and expr',
      properties: {
        name: {
          type: 'string',
          pattern: NAME_PATTERN,
          description: 'The derived series, e.g. homepage.fast_ratio.',
          'x-expected': 'a series name of letters, digits, _ . and - (e.g. homepage.fast_ratio)',
        },
        expr: {
          type: 'string',
          minLength: 1,
          description: 'A series expression, e.g. fraction(homepage.total_ms < 200, 20).',
          'x-expected': 'a series expression, e.g. percentile(homepage.total_ms, 95, 5m)',
        },
      },
    },
  },
  check,
  build: (raw) => (raw ?? []).map((d) => ({ name: d.name, expr: d.expr })),
};
