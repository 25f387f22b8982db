import type { Node } from '../expr';
import { formatDuration } from '../util/duration';
import type { Analysis, Plan } from './plan';

/**
 * Binding levels for rendering with the parentheses the meaning needs: or, and, the word
 * not, comparisons (and between), + -, * / %, unary - and !, and values.
 */
const LEVEL = { or: 1, and: 2, not: 3, compare: 4, add: 5, mul: 6, unary: 7, value: 8 } as const;

function binaryLevel(op: string): number {
  if (op === '||') return LEVEL.or;
  if (op === '&&') return LEVEL.and;
  if (op === '+' || op === '-') return LEVEL.add;
  if (op === '*' || op === '/' || op === '%') return LEVEL.mul;
  return LEVEL.compare;
}

function opText(op: string): string {
  return op === '&&' ? 'and' : op === '||' ? 'or' : op;
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** nameText writes a series name as an expression reads it (in backquotes unless plain). */
export function nameText(name: string): string {
  return PLAIN_NAME.test(name) ? name : `\`${name}\``;
}

function levelOf(n: Node): number {
  switch (n.kind) {
    case 'binary': return binaryLevel(n.op);
    case 'between': return LEVEL.compare;
    case 'unary': return n.op === '!' ? LEVEL.not : LEVEL.unary;
    default: return LEVEL.value;
  }
}

/**
 * show writes an expression tree back as text in one canonical form (`and`/`or`/`not` in
 * words, single spaces, the parentheses its meaning needs): what messages quote.
 */
export function show(n: Node, min = 0): string {
  const text = showBare(n);
  return levelOf(n) < min ? `(${text})` : text;
}

function showBare(n: Node): string {
  switch (n.kind) {
    case 'num': return String(n.value);
    case 'str': return `'${n.value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    case 'bool': return String(n.value);
    case 'null': return 'null';
    case 'dur': return n.text;
    case 'ident': return nameText(n.name);
    case 'call': return `${n.fn}(${n.args.map((a) => show(a)).join(', ')})`;
    case 'unary': return n.op === '!' ? `not ${show(n.arg, LEVEL.not)}` : `-${show(n.arg, LEVEL.unary)}`;
    case 'between': return `${show(n.arg, LEVEL.add)} between ${show(n.low, LEVEL.add)} and ${show(n.high, LEVEL.add)}`;
    case 'binary': {
      const l = binaryLevel(n.op);
      return `${show(n.left, l)} ${opText(n.op)} ${show(n.right, l + 1)}`;
    }
  }
}

/** formatValue writes a value for a message: whole numbers as they are, others to 6 significant digits. */
export function formatValue(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const digits = Math.max(6, Math.floor(Math.log10(Math.abs(v))) + 1);
  return String(Number(v.toPrecision(Math.min(21, digits))));
}

/** Why a leaf has no value, as kept in its slot (0: it has one). */
export const enum Why {
  Known = 0,
  NoSample = 1,
  Stale = 2,
  Empty = 3,
  NotANumber = 4,
  TooFew = 5,
  Learning = 6,
}

/** SLOT_WIDTH: each leaf keeps value, why and a detail (an age, a count) side by side. */
export const SLOT_WIDTH = 3;

/** formatAge: whole seconds from 1s on (`3m5s`), ms below. */
function formatAge(ms: number): string {
  return formatDuration(ms >= 1000 ? Math.round(ms / 1000) * 1000 : Math.max(0, Math.round(ms)));
}

/** leafValue words a leaf's value from its slot: `0.65`, `unknown: no sample in 5m`. */
function leafValue(p: Plan, slots: Float64Array, a: Analysis): string {
  const k = (p as { slot: number }).slot * SLOT_WIDTH;
  const why = slots[k + 1];
  const d = slots[k + 2];
  const window = 'window' in p ? p.window : undefined;
  const samples = (n: number): string => `${n} sample${n === 1 ? '' : 's'}`;
  switch (why) {
    case Why.Known: return formatValue(slots[k]);
    case Why.NoSample: return 'unknown: no sample';
    case Why.Stale: return `unknown: last sample ${formatAge(d)} ago`;
    case Why.Empty: return `unknown: no sample in ${window?.text ?? 'the window'}`;
    case Why.NotANumber: return 'unknown: not a number';
    case Why.TooFew: return `unknown: ${samples(d)}${window?.kind === 'ms' ? ` in ${window.text}` : ''}, needs 2`;
    case Why.Learning: {
      const season = p.op === 'hw' ? a.models[p.model].season : 0;
      const need = p.op === 'hw' && p.output === 'deviation' ? 2 * season + 1 : season + 1;
      return `unknown: learning, ${d} of ${samples(need)}`;
    }
    default: return 'unknown';
  }
}

/**
 * message renders what an evaluation saw: the expression with each series it read
 * followed by its value, `homepage.fast_ratio (0.65) >= 0.8`,
 * `homepage.total_ms (unknown: no sample) < 200`.
 */
export function message(p: Plan, slots: Float64Array, a: Analysis, min = 0): string {
  const n = p.node;
  switch (p.op) {
    case 'read': case 'window': case 'percentile': case 'fraction': case 'ewma': case 'hw':
      return `${p.text} (${leafValue(p, slots, a)})`;
    case 'const': case 'sample': return show(n, min);
    case 'scalar': case 'exists': {
      const args = p.op === 'exists' ? [p.arg] : p.args;
      return `${(n as Extract<Node, { kind: 'call' }>).fn}(${args.map((x) => message(x, slots, a)).join(', ')})`;
    }
    default: {
      const level = levelOf(n);
      let text: string;
      if (p.op === 'binary') text = `${message(p.left, slots, a, level)} ${opText(p.bin)} ${message(p.right, slots, a, level + 1)}`;
      else if (p.op === 'between') {
        text = `${message(p.arg, slots, a, LEVEL.add)} between ${message(p.low, slots, a, LEVEL.add)} and ${message(p.high, slots, a, LEVEL.add)}`;
      } else if (p.op === 'not') text = `not ${message(p.arg, slots, a, LEVEL.not)}`;
      else text = `-${message(p.arg, slots, a, LEVEL.unary)}`;
      return level < min ? `(${text})` : text;
    }
  }
}
