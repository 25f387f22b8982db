import type { ErrorObject } from 'ajv';
import { DURATION_PATTERN, suggestDuration } from '../util/duration';

/** SchemaProblem is an ajv error turned into words, with the path it is about. */
export interface SchemaProblem {
  /** Path segments of the value the problem is about. */
  path: Array<string | number>;
  /** True when the position should be the key itself (an unknown key). */
  atKey: boolean;
  message: string;
  /** For an unknown key: the known key it is probably a typo of. */
  suggested?: string;
  /** For a missing key: its name (a typo of it is reported instead, see `suggested`). */
  missing?: string;
}

/** describe renders a YAML value the way the user wrote it, shortened. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'nothing (null)',
};

function typeWords(t: unknown): string {
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => TYPE_WORDS[String(x)] ?? String(x)).join(' or ');
}

/** editDistance is the Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/** suggest returns the closest candidate when it is close enough to be a typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestD) { bestD = dist; best = c; }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * typeHint explains the usual cause of a type error: a number where a duration needs a
 * unit, or a YAML number or boolean where text is expected.
 */
function typeHint(schema: Record<string, unknown>, data: unknown): string {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (typeof data === 'string') {
    const looks = (/^(?:true|false)$/.test(data) && types.includes('boolean')) ||
      (/^-?\d+(?:\.\d+)?$/.test(data) && (types.includes('number') || types.includes('integer')));
    return looks ? '; remove the quotes' : '';
  }
  if (typeof data !== 'number' && typeof data !== 'boolean') return '';
  if (schema.pattern === DURATION_PATTERN && typeof data === 'number') return ` without a unit; write ${data}s for seconds`;
  const quotable = types.includes('string') && schema.enum === undefined;
  return quotable ? ` (a ${typeof data}); quote it to make it text: "${data}"` : '';
}

function oneOf(words: readonly unknown[]): string {
  return words.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))).join(', ');
}

function pointer(instancePath: string): Array<string | number> {
  if (instancePath === '') return [];
  return instancePath.slice(1).split('/').map((s) => {
    const seg = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(seg) ? Number(seg) : seg;
  });
}

/**
 * translate words one ajv error (run with allErrors, verbose) for a user. Errors that
 * only say a branch failed (`if`, `allOf`) return undefined: the branch's own errors carry
 * the detail.
 */
export function translate(err: ErrorObject): SchemaProblem | undefined {
  const path = pointer(err.instancePath);
  const schema = (err.parentSchema ?? {}) as Record<string, unknown>;
  const expected = schema['x-expected'] as string | undefined;
  const got = describe(err.data);
  const p = err.params as Record<string, any>;
  switch (err.keyword) {
    case 'if':
    case 'allOf':
      return undefined;
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const allowed = Object.keys((schema.properties as object) ?? {});
      const near = suggest(key, allowed);
      const hint = near ? `did you mean "${near}"?` : allowed.length ? `expected one of: ${allowed.join(', ')}` : 'nothing is expected here';
      return { path: [...path, key], atKey: true, message: `unknown key "${key}"; ${hint}`, suggested: near };
    }
    case 'required':
      return { path, atKey: false, message: `missing required key "${p.missingProperty}"`, missing: p.missingProperty };
    case 'dependencies':
      return { path, atKey: false, message: `"${p.property}" needs "${p.missingProperty}" in the same step` };
    case 'type':
      return { path, atKey: false, message: `expected ${expected ?? typeWords(p.type)}; got ${got}${typeHint(schema, err.data)}` };
    case 'enum': {
      const allowed = p.allowedValues as unknown[];
      if (schema['x-block-type']) {
        if (typeof err.data !== 'string') return undefined; // the type error says it
        const near = typeof err.data === 'string' ? suggest(err.data, allowed as string[]) : undefined;
        const hint = near ? `did you mean "${near}"? ` : '';
        return { path, atKey: false, message: `unknown block type ${got}; ${hint}known types: ${oneOf(allowed)}` };
      }
      return { path, atKey: false, message: `expected one of: ${oneOf(allowed)}; got ${got}` };
    }
    case 'const':
      return { path, atKey: false, message: `expected ${JSON.stringify(p.allowedValue)}; got ${got}` };
    case 'pattern':
    case 'format': {
      const near = schema.pattern === DURATION_PATTERN && typeof err.data === 'string' ? suggestDuration(err.data) : undefined;
      const hint = near ? `; did you mean ${near}?` : '';
      return { path, atKey: false, message: `expected ${expected ?? `text matching ${p.pattern ?? p.format}`}; got ${got}${hint}` };
    }
    case 'minimum':
      return { path, atKey: false, message: `must be at least ${p.limit}; got ${got}` };
    case 'maximum':
      return { path, atKey: false, message: `must be at most ${p.limit}; got ${got}` };
    case 'exclusiveMinimum':
      return { path, atKey: false, message: `must be more than ${p.limit}; got ${got}` };
    case 'exclusiveMaximum':
      return { path, atKey: false, message: `must be less than ${p.limit}; got ${got}` };
    case 'minLength':
      if (p.limit !== 1) return { path, atKey: false, message: `must be at least ${p.limit} characters long` };
      return { path, atKey: false, message: `must not be empty${expected ? `; expected ${expected}` : ''}` };
    case 'maxLength':
      return { path, atKey: false, message: `must be at most ${p.limit} characters long` };
    case 'minItems':
      if (p.limit !== 1) return { path, atKey: false, message: `must have at least ${p.limit} items` };
      return { path, atKey: false, message: `must not be an empty list${expected ? `; expected ${expected}` : ''}` };
    case 'maxItems':
      return { path, atKey: false, message: `must have at most ${p.limit} items` };
    case 'minProperties':
      return { path, atKey: false, message: `must not be empty; expected ${expected ?? 'a mapping with at least one key'}` };
    case 'uniqueItems':
      return { path, atKey: false, message: `must not repeat items (items ${p.j} and ${p.i} are the same)` };
    default:
      return { path, atKey: false, message: err.message ?? `fails ${err.keyword}` };
  }
}

/** formatPath renders path segments as blocks[1].pipe[0].if. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(top level)' : out;
}
