/**
 * The assertions of an http block (`expect:`), compiled once from the options and checked
 * against each response. A failed check says what it saw (`status 503, expected 200`):
 * that text is the run's message, which reaches the UI and alerts. Nothing here is eval'd.
 */
import { kindOf, lookup, parseJsonPath, PathSegment } from './json-path';

/** StatusSpec: 200, "2xx", "200-299", or a list of them. */
export type StatusSpec = number | string | Array<number | string>;
/** TextMatch: a string to contain, or { regex } to match. */
export type TextMatch = string | { regex: string };
export type JsonExpectation = string | number | boolean | null;

/** ExpectOptions are the keys under `expect:` (see README.md). */
export interface ExpectOptions {
  status?: StatusSpec;
  body?: TextMatch;
  headers?: Record<string, TextMatch>;
  json?: Record<string, JsonExpectation>;
  max_ms?: number;
  cert_min_days?: number;
}

/** DEFAULT_STATUS is what a response must have when `expect.status` is not given. */
export const DEFAULT_STATUS: StatusSpec = ['2xx', '3xx'];

interface StatusRange {
  lo: number;
  hi: number;
  text: string;
}

interface Matcher {
  test(s: string): boolean;
  /** "contain \"x\"" or "match /x/", after "expected it to" / "does not". */
  words: string;
}

type Comparison =
  | { op: '==' | '!='; value: unknown; text: string }
  | { op: '<' | '<=' | '>' | '>='; value: number; text: string }
  | { op: '=~' | '!~'; re: RegExp; text: string };

interface JsonCheck {
  path: string;
  segs: PathSegment[];
  cmp: Comparison;
}

/** Response is what the checks look at. */
export interface CheckedResponse {
  status: number;
  /** header reads a response header by lower-case name. */
  header(name: string): string | undefined;
  /** The kept body (up to max_body bytes), decoded as UTF-8; undefined when it was not kept. */
  body?: string;
  /** Set when the body was longer than what was kept: bytes kept and received. */
  cut?: { kept: number; size: number };
  totalMs: number;
  /** Days until the server certificate expires (https only). */
  certDaysLeft?: number;
}

/** Expect is a compiled `expect:` section. */
export class Expect {
  /** True when a check reads the body, so the block keeps it. */
  readonly needsBody: boolean;

  private constructor(
    private readonly status: StatusRange[],
    private readonly body: Matcher | undefined,
    private readonly headers: Array<[string, Matcher]>,
    private readonly json: JsonCheck[],
    private readonly maxMs: number | undefined,
    private readonly certMinDays: number | undefined,
  ) {
    this.needsBody = body !== undefined || json.length > 0;
  }

  /**
   * compile builds the checks. Problems are returned as [option path under the block,
   * message]; with problems, `expect` is undefined. Validated options give none.
   */
  static compile(o: ExpectOptions = {}): { expect?: Expect; problems: Array<[string, string]> } {
    const problems: Array<[string, string]> = [];
    const status = compileStatus(o.status ?? DEFAULT_STATUS, problems);
    const body = o.body === undefined ? undefined : compileMatch(o.body, 'expect.body', problems);
    const headers: Array<[string, Matcher]> = [];
    for (const [name, m] of Object.entries(o.headers ?? {})) {
      const matcher = compileMatch(m, `expect.headers.${name}`, problems);
      if (matcher) headers.push([name.toLowerCase(), matcher]);
    }
    const json: JsonCheck[] = [];
    for (const [path, want] of Object.entries(o.json ?? {})) {
      let segs: PathSegment[];
      try {
        segs = parseJsonPath(path);
      } catch (err) {
        problems.push(['expect.json', `"${path}" is not a JSON path: ${(err as Error).message}`]);
        continue;
      }
      const cmp = compileComparison(want);
      if (typeof cmp === 'string') problems.push(['expect.json', `"${path}": ${cmp}`]);
      else json.push({ path, segs, cmp });
    }
    if (problems.length > 0) return { problems };
    return { expect: new Expect(status, body, headers, json, o.max_ms, o.cert_min_days), problems };
  }

  /** statusOk tells whether a status is expected (redirect handling asks before reading a body). */
  statusOk(status: number): boolean {
    return this.status.some((r) => status >= r.lo && status <= r.hi);
  }

  /** failures lists what is wrong with a response, each as the user should read it; [] when all pass. */
  failures(r: CheckedResponse): string[] {
    const out: string[] = [];
    if (!this.statusOk(r.status)) out.push(`status ${r.status}, expected ${orList(this.status.map((s) => s.text))}`);
    const cut = r.cut ? ` (only the first ${r.cut.kept} of ${r.cut.size} bytes are checked; see max_body)` : '';
    if (this.body && r.body !== undefined && !this.body.test(r.body)) {
      out.push(`body does not ${this.body.words} (${preview(r.body)})${cut}`);
    }
    for (const [name, m] of this.headers) {
      const v = r.header(name);
      if (v === undefined) out.push(`header ${name} is missing, expected it to ${m.words}`);
      else if (!m.test(v)) out.push(`header ${name} is ${quote(v)}, expected it to ${m.words}`);
    }
    if (this.json.length > 0 && r.body !== undefined) out.push(...this.jsonFailures(r.body, cut));
    if (this.maxMs !== undefined && r.totalMs > this.maxMs) out.push(`total_ms ${round1(r.totalMs)}, expected at most ${this.maxMs}`);
    if (this.certMinDays !== undefined && r.certDaysLeft !== undefined && r.certDaysLeft < this.certMinDays) {
      const left = r.certDaysLeft;
      out.push(left < 0
        ? `certificate expired ${round1(-left)} days ago, expected at least ${this.certMinDays} days left`
        : `certificate expires in ${round1(left)} days, expected at least ${this.certMinDays}`);
    }
    return out;
  }

  private jsonFailures(body: string, cut: string): string[] {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      return [`body is not JSON (${preview(body)})${cut}`];
    }
    const out: string[] = [];
    for (const c of this.json) {
      const got = lookup(doc, c.segs);
      if (!got.found) {
        out.push(`json ${c.path} not found: ${got.why}`);
        continue;
      }
      if (!compare(got.value, c.cmp)) out.push(`json ${c.path} is ${show(got.value)}, expected ${c.cmp.text}`);
    }
    return out;
  }
}

function compileStatus(spec: StatusSpec, problems: Array<[string, string]>): StatusRange[] {
  const items = Array.isArray(spec) ? spec : [spec];
  const out: StatusRange[] = [];
  items.forEach((item, i) => {
    const where = Array.isArray(spec) ? `expect.status.${i}` : 'expect.status';
    const text = String(item).trim();
    let m: RegExpExecArray | null;
    if ((m = /^([1-5])xx$/i.exec(text))) out.push({ lo: Number(m[1]) * 100, hi: Number(m[1]) * 100 + 99, text: `${m[1]}xx` });
    else if ((m = /^(\d{3})\s*-\s*(\d{3})$/.exec(text))) {
      const [lo, hi] = [Number(m[1]), Number(m[2])];
      if (lo > hi) problems.push([where, `range ${text} is empty; write the lower status first, e.g. ${hi}-${lo}`]);
      else out.push({ lo, hi, text: `${lo}-${hi}` });
    } else if (/^\d{3}$/.test(text)) out.push({ lo: Number(text), hi: Number(text), text });
    else problems.push([where, `expected a status like 200, "2xx" or "200-299"; got ${JSON.stringify(item)}`]);
  });
  return out;
}

function compileMatch(m: TextMatch, where: string, problems: Array<[string, string]>): Matcher | undefined {
  if (typeof m === 'string') return { test: (s) => s.includes(m), words: `contain ${quote(m)}` };
  try {
    const re = new RegExp(m.regex);
    return { test: (s) => re.test(s), words: `match /${m.regex}/` };
  } catch (err) {
    problems.push([`${where}.regex`, `is not a valid regular expression: ${(err as Error).message}`]);
    return undefined;
  }
}

const OPERATOR = /^(==|!=|>=|<=|=~|!~|>|<)\s*([\s\S]*)$/;

/** compileComparison reads a json expectation; a string result is the problem with it. */
function compileComparison(want: JsonExpectation): Comparison | string {
  if (typeof want !== 'string') return { op: '==', value: want, text: JSON.stringify(want) };
  const m = OPERATOR.exec(want.trim());
  if (!m) return { op: '==', value: want, text: JSON.stringify(want) };
  const op = m[1];
  const operand = m[2].trim();
  if (op === '=~' || op === '!~') {
    try {
      return { op, re: new RegExp(operand), text: `${op === '=~' ? 'to match' : 'not to match'} /${operand}/` };
    } catch (err) {
      return `${JSON.stringify(want)}: ${operand === '' ? 'no regular expression after ' + op : `not a valid regular expression: ${(err as Error).message}`}`;
    }
  }
  if (op === '==' || op === '!=') {
    if (operand === '') return `${JSON.stringify(want)}: nothing to compare with after ${op}; write e.g. "${op} ok", "${op} 3" or "${op} null"`;
    const value = jsonLiteral(operand);
    return { op, value, text: `${op === '==' ? '' : '!= '}${JSON.stringify(value)}` };
  }
  const n = numberOf(operand);
  if (n === undefined) return `${JSON.stringify(want)}: ${op} needs a number, e.g. "${op} 3"`;
  return { op: op as '<' | '<=' | '>' | '>=', value: n, text: `${op} ${n}` };
}

/** jsonLiteral reads `3`, `true`, `null`, `"quoted"` as JSON, anything else as a bare string. */
function jsonLiteral(s: string): unknown {
  if (/^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|"(?:[^"\\]|\\.)*")$/.test(s)) return JSON.parse(s);
  return s;
}

function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || !/^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/.test(v)) return undefined;
  return Number(v);
}

function compare(got: unknown, c: Comparison): boolean {
  switch (c.op) {
    case '==':
      return got === c.value;
    case '!=':
      return got !== c.value;
    case '=~':
    case '!~': {
      const text = typeof got === 'string' ? got : JSON.stringify(got);
      return c.re.test(text) === (c.op === '=~');
    }
    default: {
      const n = numberOf(got);
      if (n === undefined) return false;
      if (c.op === '<') return n < c.value;
      if (c.op === '<=') return n <= c.value;
      if (c.op === '>') return n > c.value;
      return n >= c.value;
    }
  }
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  const s = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return typeof v === 'object' && v !== null ? `${kindOf(v)} ${s}` : s;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/** preview shows the start of a body in a message. */
export function preview(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat === '') return 'the body is empty';
  return `it starts with ${quote(flat)}`;
}

function orList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
