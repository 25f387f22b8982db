/** ParseSpec: how stdout becomes fields. */
export type ParseSpec = 'none' | 'number' | 'json' | 'kv' | { regex: string };

/** ParseOutcome: the fields found, or why stdout could not be parsed. */
export type ParseOutcome = { fields: Record<string, number> } | { error: string };

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** toNumber accepts numbers and numeric strings (and true/false as 1/0). */
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && NUMBER.test(v.trim())) {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined; // "1e999" overflows to Infinity
  }
  return undefined;
}

/** fieldName makes a series-safe field name: nested keys are joined with "_". */
function fieldName(parts: string[]): string {
  return parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * parsedFields lists the fields a run gives with a ParseSpec: exit_code, and value (number)
 * or the regex's named groups; undefined for json and kv, whose keys come from the output.
 */
export function parsedFields(spec: ParseSpec): string[] | undefined {
  if (spec === 'none') return ['exit_code'];
  if (spec === 'number') return ['exit_code', 'value'];
  if (typeof spec !== 'object') return undefined;
  // An empty alternative matches "", and the match lists every named group of the regex.
  const groups = new RegExp(`(?:${spec.regex})|`).exec('')?.groups ?? {};
  return ['exit_code', ...Object.keys(groups)];
}

/** parseOutput applies a ParseSpec to a command's stdout. */
export function parseOutput(spec: ParseSpec, stdout: string): ParseOutcome {
  if (spec === 'none') return { fields: {} };
  if (spec === 'number') {
    const n = toNumber(stdout.trim());
    return n === undefined ? { error: `stdout is not a number: ${preview(stdout)}` } : { fields: { value: n } };
  }
  if (spec === 'kv') {
    const fields: Record<string, number> = {};
    for (const line of stdout.split('\n')) {
      const m = /^\s*([A-Za-z0-9_.-]+)\s*[=:]\s*(\S+)\s*$/.exec(line);
      if (!m) continue;
      const n = toNumber(m[2]);
      if (n !== undefined) fields[fieldName([m[1]])] = n;
    }
    return { fields };
  }
  if (spec === 'json') {
    let data: unknown;
    try {
      data = JSON.parse(stdout);
    } catch {
      return { error: `stdout is not JSON: ${preview(stdout)}` };
    }
    const fields: Record<string, number> = {};
    const walk = (v: unknown, at: string[]): void => {
      if (v !== null && typeof v === 'object') {
        for (const [k, child] of Object.entries(v)) walk(child, [...at, k]);
        return;
      }
      const n = toNumber(v);
      if (n !== undefined) fields[at.length ? fieldName(at) : 'value'] = n;
    };
    walk(data, []);
    return { fields };
  }
  const m = new RegExp(spec.regex, 'm').exec(stdout);
  if (!m) return { error: `stdout does not match /${spec.regex}/: ${preview(stdout)}` };
  const fields: Record<string, number> = {};
  for (const [k, v] of Object.entries(m.groups ?? {})) {
    const n = v === undefined ? undefined : toNumber(v);
    if (n !== undefined) fields[k] = n;
  }
  return { fields };
}

function preview(s: string): string {
  const t = s.trim();
  return t === '' ? '(empty)' : JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t);
}
