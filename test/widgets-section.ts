// A test-only config section, `widgets:`, written the way a subsystem writes its own (from
// its folder, without editing src/config): module augmentation of Config, a schema, a check
// with positions (a series reference, an expression) and a build. It exports a registry,
// so loadConfigIsolated's worker can load it too.
import { builtinBlockTypes } from '../blocks';
import type { ConfigSection, Registry, SectionIssue } from '../src/config/section';
import { coreSections } from '../src/config/sections';
import { Node, parse, SCALAR_FUNCTION_NAMES } from '../src/expr';

/** Widget is one built `widgets:` item. */
export interface Widget {
  name: string;
  /** The series the widget shows. */
  show: string;
  /** When given: shown only while this holds. */
  when?: Node;
}

declare module '../src/config/types' {
  interface Config {
    // Optional because only tests register the section; a subsystem's key is required.
    widgets?: Widget[];
    panels?: string[];
  }
}

interface RawWidget {
  name: string;
  show: string;
  when?: string;
}

/** widgetsSection: `widgets: [{ name, show: SERIES, when: EXPR }]`; each widget makes the series widget.NAME. */
export const widgetsSection: ConfigSection<'widgets', RawWidget[]> = {
  key: 'widgets',
  reload: 'live',
  after: ['blocks'],
  definitions: { widgetName: { type: 'string', pattern: '^[a-z]+$', 'x-expected': 'a lower-case name' } },
  schema: {
    type: 'array',
    'x-expected': 'a list of widgets',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'show'],
      properties: {
        name: { $ref: '#/definitions/widgetName' },
        show: { type: 'string', minLength: 1 },
        when: { type: 'string', minLength: 1 },
      },
    },
  },
  check(raw, ctx) {
    const issues: SectionIssue[] = [];
    if (!Array.isArray(raw)) return issues;
    raw.forEach((w: RawWidget, i) => {
      if (!ctx.valid(['widgets', i])) return;
      const ref = ctx.catalog.check(w.show, ['widgets', i, 'show']);
      if (ref) issues.push(ref);
      if (w.when !== undefined) {
        try {
          parse(w.when, { functions: SCALAR_FUNCTION_NAMES });
        } catch (err) {
          const e = err as Error & { pos?: number; reason?: string };
          issues.push({ path: ['widgets', i, 'when'], message: e.reason ?? e.message, exprPos: e.pos });
        }
      }
      ctx.catalog.add(`widget.${w.name}`);
    });
    return issues;
  },
  build(raw) {
    return (raw ?? []).map((w) => ({ name: w.name, show: w.show, ...(w.when ? { when: parse(w.when) } : {}) }));
  },
};

/** panelsSection: `panels: [SERIES]`, registered before widgets but checked after them (it may show widget.NAME). */
export const panelsSection: ConfigSection<'panels', string[]> = {
  key: 'panels',
  reload: 'restart',
  after: ['widgets', 'no-such-section'],
  schema: { type: 'array', items: { type: 'string' } },
  check(raw, ctx) {
    if (!Array.isArray(raw)) return [];
    return raw.flatMap((s: string, i) => ctx.catalog.check(s, ['panels', i]) ?? []);
  },
  build: (raw) => raw ?? [],
};

/** registry: the built-in block types and the core sections, plus widgets (for the worker of loadConfigIsolated). */
export const registry: Registry = { types: builtinBlockTypes, sections: [...coreSections, widgetsSection] };
