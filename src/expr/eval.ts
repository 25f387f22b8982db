import { createError } from '../errors';
import { Node, Value } from './ast';

/** Scope resolves identifiers; undefined means the name has no value (treated as null). */
export type Scope = (name: string) => Value | undefined;

/** ScalarFunctions are the functions a condition may call. */
export const SCALAR_FUNCTIONS: Record<string, (...args: Value[]) => Value> = {
  abs: (x) => (typeof x === 'number' ? Math.abs(x) : null),
  round: (x, digits) => {
    if (typeof x !== 'number') return null;
    const f = 10 ** (typeof digits === 'number' ? digits : 0);
    return Math.round(x * f) / f;
  },
  floor: (x) => (typeof x === 'number' ? Math.floor(x) : null),
  ceil: (x) => (typeof x === 'number' ? Math.ceil(x) : null),
  min: (...xs) => numbers(xs).reduce<number | null>((a, b) => (a === null ? b : Math.min(a, b)), null),
  max: (...xs) => numbers(xs).reduce<number | null>((a, b) => (a === null ? b : Math.max(a, b)), null),
  exists: (x) => x !== null,
};

/** SCALAR_FUNCTION_NAMES is the set passed to parse() for conditions. */
export const SCALAR_FUNCTION_NAMES: ReadonlySet<string> = new Set(Object.keys(SCALAR_FUNCTIONS));

function numbers(xs: Value[]): number[] {
  return xs.filter((x): x is number => typeof x === 'number' && !Number.isNaN(x));
}

/**
 * evaluate computes an expression. A missing value is null: arithmetic on null is null
 * and every comparison with null is false except `== null` / `!= null` (`between` too), so
 * a condition over a field that a failed run did not produce is simply not met.
 */
export function evaluate(node: Node, scope: Scope): Value {
  switch (node.kind) {
    case 'num':
    case 'str':
    case 'bool':
      return node.value;
    case 'null':
      return null;
    case 'dur':
      return node.ms;
    case 'between': {
      const x = toNumber(evaluate(node.arg, scope));
      const lo = toNumber(evaluate(node.low, scope));
      const hi = toNumber(evaluate(node.high, scope));
      return x !== null && lo !== null && hi !== null && lo <= x && x <= hi;
    }
    case 'ident': {
      const v = scope(node.name);
      return v === undefined ? null : v;
    }
    case 'call': {
      const fn = SCALAR_FUNCTIONS[node.fn];
      if (!fn) throw createError('REMON_ERR_EXPR_EVAL', `unknown function "${node.fn}"`);
      return fn(...node.args.map((a) => evaluate(a, scope)));
    }
    case 'unary': {
      const v = evaluate(node.arg, scope);
      if (node.op === '!') return !truthy(v);
      return typeof v === 'number' ? -v : null;
    }
    case 'binary':
      return binary(node.op, node.left, node.right, scope);
  }
}

function binary(op: string, l: Node, r: Node, scope: Scope): Value {
  if (op === '&&') return truthy(evaluate(l, scope)) && truthy(evaluate(r, scope));
  if (op === '||') return truthy(evaluate(l, scope)) || truthy(evaluate(r, scope));
  const a = evaluate(l, scope);
  const b = evaluate(r, scope);
  switch (op) {
    case '==': return equal(a, b);
    case '!=': return !equal(a, b);
    case '=~': return a !== null && b !== null && safeRegex(String(b)).test(String(a));
    case '<': case '<=': case '>': case '>=': {
      if (a === null || b === null) return false;
      const x = typeof a === 'boolean' ? Number(a) : a;
      const y = typeof b === 'boolean' ? Number(b) : b;
      if (typeof x !== typeof y) return false;
      if (op === '<') return x < y;
      if (op === '<=') return x <= y;
      if (op === '>') return x > y;
      return x >= y;
    }
    default: {
      if (typeof a === 'string' && typeof b === 'string' && op === '+') return a + b;
      const x = toNumber(a);
      const y = toNumber(b);
      if (x === null || y === null) return null;
      if (op === '+') return x + y;
      if (op === '-') return x - y;
      if (op === '*') return x * y;
      if (op === '/') return y === 0 ? null : x / y;
      return y === 0 ? null : x % y;
    }
  }
}

function equal(a: Value, b: Value): boolean {
  if (typeof a === 'boolean' && typeof b === 'number') return Number(a) === b;
  if (typeof a === 'number' && typeof b === 'boolean') return a === Number(b);
  return a === b;
}

function toNumber(v: Value): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  return null;
}

/** truthy: null, false, 0, NaN and "" are false. */
export function truthy(v: Value): boolean {
  return v !== null && v !== false && v !== 0 && v !== '' && !(typeof v === 'number' && Number.isNaN(v));
}

const regexCache = new Map<string, RegExp>();
function safeRegex(src: string): RegExp {
  let re = regexCache.get(src);
  if (!re) {
    try {
      re = new RegExp(src);
    } catch (err) {
      throw createError('REMON_ERR_EXPR_EVAL', `invalid regular expression ${JSON.stringify(src)}`, err);
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(src, re);
  }
  return re;
}
