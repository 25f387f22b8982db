import { isScalar, parseDocument } from 'yaml';
import { expandString, retype } from './env';

/**
 * Bail is thrown inside parseSimpleYaml for anything outside the subset it reads: the
 * caller then takes the full parser (which also words any mistake for a user).
 */
class Bail extends Error {}

const bail = (): never => {
  throw new Bail();
};

/** ScalarTag is a tag of the YAML library's core schema, as it resolves a plain scalar. */
interface ScalarTag {
  default?: boolean | 'key';
  test?: RegExp;
  resolve(value: string, onError: (msg: string) => void, options: object): unknown;
}

/** The library's own core schema (with its options), so plain scalars resolve exactly as it resolves them. */
const probe = parseDocument('', { merge: true, uniqueKeys: true, logLevel: 'error' });
const TAGS = (probe.schema.tags as unknown as ScalarTag[]).filter((t) => t.default === true && t.test !== undefined);
const TAG_OPTIONS = probe.options;

/** plainValue resolves a plain scalar like the library (null, booleans, numbers; otherwise the string). */
function plainValue(text: string): unknown {
  // Most values start with a letter other than those of null/true/false/.inf: strings, at once.
  const c = text.charCodeAt(0);
  const maybe = text === '' || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 126 || c === 78 || c === 110 || c === 84 || c === 116 || c === 70 || c === 102;
  if (!maybe) return text;
  for (const tag of TAGS) {
    if (tag.test!.test(text)) {
      let failed = false;
      let v = tag.resolve(text, () => { failed = true; }, TAG_OPTIONS);
      // A float keeps its digits in a Scalar (for stringifying); its value is what toJS gives.
      if (isScalar(v)) v = v.value;
      if (failed || (typeof v === 'object' && v !== null)) bail();
      return v;
    }
  }
  return text;
}

/** Characters a plain scalar may not start with (YAML indicators). */
const INDICATOR = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);
/** Flow indicators: they end a plain scalar inside [ ] and { }. */
const FLOW_END = new Set([',', '[', ']', '{', '}']);
const MAX_KEY = 1000;

/** plainStart: a plain scalar may start at p ("-", "?" and ":" only before a character that is not a space). */
function plainStart(line: string, p: number, flow: boolean): boolean {
  const c = line[p];
  if (c === undefined) return false;
  if (c === '-' || c === '?' || c === ':') {
    const next = line[p + 1];
    return next !== undefined && next !== ' ' && !(flow && FLOW_END.has(next));
  }
  return !INDICATOR.has(c);
}

/**
 * parseSimpleYaml reads the YAML people write in monitor.yaml (block mappings and
 * sequences, one-line flow collections, plain and one-line quoted scalars, comments) into
 * the same plain value the YAML library gives, with ${VAR} expanded in values as
 * expandEnv does. It is about 20 times faster and allocates little, which matters at
 * 100,000 blocks. Anything else (anchors, aliases, tags, block scalars, multi-line
 * scalars or flow collections, document markers, tabs, CR, duplicate keys, a reference to
 * an unset variable, and every syntax error) makes it return undefined: the caller then
 * uses the full parser, which keeps positions for messages.
 */
export function parseSimpleYaml(text: string, env: NodeJS.ProcessEnv): unknown {
  if (text.includes('\t') || text.includes('\r') || text.charCodeAt(0) === 0xfeff) return undefined;
  try {
    return new SimpleYaml(text, env).document();
  } catch (err) {
    if (err instanceof Bail) return undefined;
    throw err;
  }
}

class SimpleYaml {
  private readonly lines: string[];
  private i = 0;
  /** A line whose content starts after a "- " (a sequence item's node): its indent is that column. */
  private virtLine = -1;
  private virtIndent = 0;

  constructor(text: string, private readonly env: NodeJS.ProcessEnv) {
    this.lines = text.split('\n');
  }

  document(): unknown {
    this.skipBlank();
    if (this.i >= this.lines.length) return undefined;
    const n = this.indent();
    const line = this.lines[this.i];
    if (line.startsWith('---') || line.startsWith('...') || line.startsWith('%')) bail();
    const value = this.node(n);
    this.skipBlank();
    if (this.i < this.lines.length) bail();
    return value;
  }

  /** indent of the current line (spaces before its content, or the column after "- "). */
  private indent(): number {
    if (this.i === this.virtLine) return this.virtIndent;
    const line = this.lines[this.i];
    let n = 0;
    while (line.charCodeAt(n) === 32) n++;
    return n;
  }

  /** skipBlank moves past empty and comment-only lines. */
  private skipBlank(): void {
    for (; this.i < this.lines.length; this.i++) {
      const line = this.lines[this.i];
      const n = this.indent();
      if (n < line.length && line[n] !== '#') return;
    }
  }

  private isItem(line: string, n: number): boolean {
    return line[n] === '-' && (n + 1 === line.length || line[n + 1] === ' ');
  }

  /** node parses the block node whose first line is the current one, at indent n. */
  private node(n: number): unknown {
    const line = this.lines[this.i];
    if (this.isItem(line, n)) return this.sequence(n);
    if (this.key(line, n)) return this.mapping(n);
    return bail();
  }

  private mapping(n: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      this.skipBlank();
      if (this.i >= this.lines.length) break;
      const ind = this.indent();
      if (ind < n) break;
      if (ind > n) bail();
      const line = this.lines[this.i];
      const k = this.key(line, n) ?? bail();
      if (Object.prototype.hasOwnProperty.call(out, k.key)) bail();
      let p = k.after;
      while (line.charCodeAt(p) === 32) p++;
      let value: unknown;
      if (p >= line.length || line[p] === '#') {
        this.i++;
        value = this.nested(n, true);
      } else {
        value = this.inline(line, p);
        this.i++;
      }
      out[k.key] = value;
    }
    return out;
  }

  /** nested is the value below a key or "-" with nothing after it: deeper lines, a sequence at the key's indent, or null. */
  private nested(n: number, atKey: boolean): unknown {
    this.skipBlank();
    if (this.i >= this.lines.length) return null;
    const ind = this.indent();
    const line = this.lines[this.i];
    if (ind > n) return this.node(ind);
    if (atKey && ind === n && this.isItem(line, n)) return this.sequence(n);
    return null;
  }

  private sequence(n: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      this.skipBlank();
      if (this.i >= this.lines.length) break;
      const ind = this.indent();
      if (ind < n) break;
      if (ind > n) bail();
      const line = this.lines[this.i];
      if (!this.isItem(line, n)) break;
      let p = n + 1;
      while (line.charCodeAt(p) === 32) p++;
      if (p >= line.length || line[p] === '#') {
        this.i++;
        out.push(this.nested(n, false));
        continue;
      }
      // The item's content is a node of its own, indented at its column.
      this.virtLine = this.i;
      this.virtIndent = p;
      if (this.isItem(line, p)) out.push(this.sequence(p));
      else if (this.key(line, p)) out.push(this.mapping(p));
      else {
        out.push(this.inline(line, p));
        this.i++;
      }
    }
    return out;
  }

  /** key reads "key:" at column p of a block mapping line: the key and where its value starts; undefined when the line is no mapping entry. */
  private key(line: string, p: number): { key: string; after: number } | undefined {
    const c = line[p];
    if (c === '"' || c === "'") {
      const q = this.quoted(line, p);
      let e = q.end;
      while (line.charCodeAt(e) === 32) e++;
      if (line[e] !== ':' || !(e + 1 === line.length || line[e + 1] === ' ')) return undefined;
      if (q.value === '__proto__' || q.value.length > MAX_KEY) bail();
      return { key: q.value, after: e + 1 };
    }
    if (!plainStart(line, p, false)) return undefined;
    for (let e = p; e < line.length; e++) {
      const ch = line.charCodeAt(e);
      if (ch === 58 /* : */ && (e + 1 === line.length || line.charCodeAt(e + 1) === 32)) {
        const text = line.slice(p, e).trimEnd();
        const key = plainValue(text);
        if (typeof key !== 'string' || key === '<<' || key === '__proto__' || key.length > MAX_KEY) bail();
        return { key: key as string, after: e + 1 };
      }
      if (ch === 35 /* # */ && line.charCodeAt(e - 1) === 32) return undefined;
    }
    return undefined;
  }

  /** inline is a value that starts at p and ends the line (a comment may follow). */
  private inline(line: string, p: number): unknown {
    const c = line[p];
    let value: unknown;
    let end: number;
    if (c === '[' || c === '{') {
      const f = this.flow(line, p);
      value = f.value;
      end = f.end;
    } else if (c === '"' || c === "'") {
      const q = this.quoted(line, p);
      value = this.expand(q.value, false);
      end = q.end;
    } else {
      if (!plainStart(line, p, false)) bail();
      let e = p;
      while (e < line.length && !(line.charCodeAt(e) === 35 && line.charCodeAt(e - 1) === 32)) e++;
      const text = line.slice(p, e).trimEnd();
      // "a: b: c" (a mapping in a compact value) is a mistake the full parser words.
      if (text.includes(': ') || text.endsWith(':')) bail();
      return this.expand(plainValue(text), true);
    }
    this.rest(line, end);
    return value;
  }

  /** rest: only spaces and a comment may follow a value on its line. */
  private rest(line: string, p: number): void {
    if (p < line.length && line[p] !== ' ') bail();
    while (line.charCodeAt(p) === 32) p++;
    if (p < line.length && line[p] !== '#') bail();
  }

  /** flow parses a one-line [ ] or { } collection starting at p. */
  private flow(line: string, p: number): { value: unknown; end: number } {
    const open = line[p];
    const close = open === '[' ? ']' : '}';
    const seq: unknown[] = [];
    const map: Record<string, unknown> = {};
    p++;
    p = skip(line, p);
    if (line[p] === close) return { value: open === '[' ? seq : map, end: p + 1 };
    for (;;) {
      if (open === '[') {
        const item = this.flowItem(line, p, false);
        seq.push(item.value);
        p = skip(line, item.end);
        if (line[p] === ':') bail(); // a single-pair mapping in a sequence
      } else {
        const k = this.flowItem(line, p, true);
        if (typeof k.value !== 'string' || k.value === '<<' || k.value === '__proto__') bail();
        const key = k.value as string;
        p = skip(line, k.end);
        if (line[p] !== ':') bail();
        p = skip(line, p + 1);
        let value: unknown = null;
        if (line[p] !== ',' && line[p] !== '}') {
          const v = this.flowItem(line, p, false);
          value = v.value;
          p = skip(line, v.end);
        }
        if (Object.prototype.hasOwnProperty.call(map, key)) bail();
        map[key] = value;
      }
      if (line[p] === ',') {
        p = skip(line, p + 1);
        if (line[p] === close) bail(); // a trailing comma: left to the full parser
        continue;
      }
      if (line[p] === close) return { value: open === '[' ? seq : map, end: p + 1 };
      return bail();
    }
  }

  /** flowItem is a value (or a key) inside a flow collection. */
  private flowItem(line: string, p: number, isKey: boolean): { value: unknown; end: number } {
    const c = line[p];
    if (c === '[' || c === '{') {
      if (isKey) bail();
      return this.flow(line, p);
    }
    if (c === '"' || c === "'") {
      const q = this.quoted(line, p);
      return { value: isKey ? q.value : this.expand(q.value, false), end: q.end };
    }
    if (!plainStart(line, p, true)) bail();
    let e = p;
    for (; e < line.length; e++) {
      const ch = line[e];
      if (FLOW_END.has(ch)) break;
      if (ch === ':' && (e + 1 === line.length || line[e + 1] === ' ' || FLOW_END.has(line[e + 1]))) break;
      if (ch === '#' && line[e - 1] === ' ') bail();
      // ${VAR} in a flow collection is a mistake the full parser words.
      if (ch === '$') bail();
    }
    const text = line.slice(p, e).trimEnd();
    if (text === '') bail();
    const value = plainValue(text);
    if (isKey && typeof value !== 'string') bail();
    return { value, end: e };
  }

  /** quoted reads a one-line quoted scalar at p. */
  private quoted(line: string, p: number): { value: string; end: number } {
    const q = line[p];
    let out = '';
    let from = p + 1;
    for (let e = p + 1; e < line.length; e++) {
      const ch = line[e];
      if (q === "'") {
        if (ch !== "'") continue;
        if (line[e + 1] === "'") {
          out += line.slice(from, e + 1);
          from = ++e + 1;
          continue;
        }
        return { value: out + line.slice(from, e), end: e + 1 };
      }
      if (ch === '"') return { value: out + line.slice(from, e), end: e + 1 };
      if (ch === '\\') {
        out += line.slice(from, e);
        const esc = escape(line, e + 1);
        out += esc.text;
        e = esc.end - 1;
        from = esc.end;
      }
    }
    return bail(); // not closed on its line
  }

  /** expand replaces ${VAR} in a string value as expandEnv does; a plain scalar takes the type of what it expands to. */
  private expand(value: unknown, plain: boolean): unknown {
    if (typeof value !== 'string' || !value.includes('$')) return value;
    const after = expandString(value, this.env, bail);
    if (after === value) return value;
    return plain ? retype(after) : after;
  }
}

function skip(line: string, p: number): number {
  while (line.charCodeAt(p) === 32) p++;
  return p;
}

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f', ' ': ' ' };

/** escape reads the escape after a backslash at p (the common ones; others go to the full parser). */
function escape(line: string, p: number): { text: string; end: number } {
  const c = line[p];
  if (c in SIMPLE_ESCAPES) return { text: SIMPLE_ESCAPES[c], end: p + 1 };
  const digits = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  const hex = line.slice(p + 1, p + 1 + digits);
  if (digits === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) bail();
  const code = parseInt(hex, 16);
  if (code > 0x10ffff) bail();
  return { text: String.fromCodePoint(code), end: p + 1 + digits };
}
