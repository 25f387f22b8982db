import { BinaryOp, Node } from './ast';
import { syntax, Token, tokenize } from './lexer';

/**
 * Binary operators by precedence, loosest first; `and`/`or` are spelled-out aliases.
 * The word `not` binds looser than comparisons (`not up == 0` is `!(up == 0)`, as in
 * SQL and Python), while `!` binds tightest (`!up == 0` is `(!up) == 0`, as in C and JS).
 */
const LEVELS: BinaryOp[][] = [
  ['||'],
  ['&&'],
  ['==', '!=', '<', '<=', '>', '>=', '=~'],
  ['+', '-'],
  ['*', '/', '%'],
];
const NOT_LEVEL = 2;
const WORD_OPS: Record<string, BinaryOp> = { or: '||', and: '&&' };
const COMPARISONS = new Set<BinaryOp>(['==', '!=', '<', '<=', '>', '>=', '=~']);

/** isComparison tells whether a node is a comparison (which cannot be compared again). */
function isComparison(n: Node): boolean {
  return n.kind === 'between' || (n.kind === 'binary' && COMPARISONS.has(n.op)) ||
    (n.kind === 'unary' && n.op === '!' && n.arg.kind === 'between');
}

/**
 * ParseOptions restricts which functions an expression may call (all, when absent) and
 * whether duration literals (`5m`, the windows of series expressions) are part of it.
 */
export interface ParseOptions {
  functions?: ReadonlySet<string>;
  durations?: boolean;
}

/**
 * parse turns expression text into an AST or throws REMON_ERR_EXPR_SYNTAX with the
 * column of the problem (`err.pos`, 0-based) and its reason (`err.reason`).
 */
export function parse(src: string, options: ParseOptions = {}): Node {
  const tokens = tokenize(src, { durations: options.durations });
  let i = 0;
  const peek = (): Token => tokens[i];
  const next = (): Token => tokens[i++];
  const found = (t: Token): string => (t.type === 'eof' ? 'found the end of the expression' : `found "${t.text}"`);
  const fail = (t: Token, what: string): never => {
    throw syntax(src, t.pos, `${what}, ${found(t)}`);
  };
  const isWord = (t: Token, word: string): boolean => t.type === 'ident' && t.text === word;
  const startsValue = (t: Token): boolean =>
    t.type === 'num' || t.type === 'str' || t.type === 'dur' || (t.type === 'ident' && !(t.text in WORD_OPS)) ||
    (t.type === 'op' && (t.text === '(' || t.text === '-' || t.text === '!'));

  const binaryOp = (t: Token): BinaryOp | undefined => {
    if (t.type === 'op') return t.text as BinaryOp;
    if (t.type === 'ident' && t.text in WORD_OPS) return WORD_OPS[t.text];
    return undefined;
  };

  const parseLevel = (level: number): Node => {
    if (level === LEVELS.length) return parseUnary();
    if (level === NOT_LEVEL && isWord(peek(), 'not')) {
      const t = next();
      return { kind: 'unary', op: '!', arg: operand(t, level), pos: t.pos };
    }
    let left = parseLevel(level + 1);
    for (;;) {
      const t = peek();
      if (level === NOT_LEVEL && (isWord(t, 'between') || (isWord(t, 'not') && isWord(tokens[i + 1], 'between')))) {
        left = parseBetween(left);
        continue;
      }
      const op = binaryOp(t);
      if (op === undefined || !LEVELS[level].includes(op)) return left;
      next();
      const right = operand(t, level + 1);
      if (COMPARISONS.has(op) && isComparison(left)) {
        throw syntax(src, t.pos, `comparisons cannot be chained; write "a < b && b < c" instead of "a < b < c"`);
      }
      left = { kind: 'binary', op, left, right, pos: t.pos };
    }
  };

  /** parseBetween parses `[not] between LOW and HIGH` after its first operand; `not between` is the negation. */
  const parseBetween = (arg: Node): Node => {
    const negated = isWord(peek(), 'not') ? next() : undefined;
    const word = next();
    if (isComparison(arg)) throw syntax(src, word.pos, 'comparisons cannot be chained; write "a between b and c" on a value, not on a comparison');
    const low = operand(word, NOT_LEVEL + 1);
    const and = peek();
    if (!isWord(and, 'and')) fail(and, 'expected "and" between the bounds of "between" (x between 5 and 20)');
    next();
    const high = operand(and, NOT_LEVEL + 1);
    const node: Node = { kind: 'between', arg, low, high, pos: word.pos };
    return negated ? { kind: 'unary', op: '!', arg: node, pos: negated.pos } : node;
  };

  /** operand parses what must follow the operator `op`, naming it when nothing does. */
  const operand = (op: Token, level: number): Node => {
    if (!startsValue(peek())) fail(peek(), `expected a value after "${op.text}"`);
    return parseLevel(level);
  };

  const parseUnary = (): Node => {
    const t = peek();
    if (t.type === 'op' && (t.text === '-' || t.text === '!')) {
      next();
      return { kind: 'unary', op: t.text, arg: operand(t, LEVELS.length), pos: t.pos };
    }
    if (isWord(t, 'not')) {
      // `a == not b`: the word binds loosely, so here it starts a new operand.
      next();
      return { kind: 'unary', op: '!', arg: operand(t, NOT_LEVEL), pos: t.pos };
    }
    return parsePrimary();
  };

  const parsePrimary = (): Node => {
    const t = next();
    if (t.type === 'num') return { kind: 'num', value: t.value as number, pos: t.pos };
    if (t.type === 'str') return { kind: 'str', value: t.value as string, pos: t.pos };
    if (t.type === 'dur') return { kind: 'dur', ms: t.value as number, text: t.text, pos: t.pos };
    if (t.type === 'op' && t.text === '(') {
      const inner = operand(t, 0);
      const close = next();
      if (close.type !== 'op' || close.text !== ')') fail(close, 'expected ")" to close the "("');
      return inner;
    }
    if (t.type === 'ident') {
      if (t.text === 'true' || t.text === 'false') return { kind: 'bool', value: t.text === 'true', pos: t.pos };
      if (t.text === 'null') return { kind: 'null', pos: t.pos };
      if (t.text in WORD_OPS) fail(t, 'expected a value');
      const name = t.value as string;
      const open = peek();
      if (open.type === 'op' && open.text === '(' && !t.text.startsWith('`')) return parseCall(t, name);
      return { kind: 'ident', name, pos: t.pos };
    }
    return fail(t, 'expected a value');
  };

  const parseCall = (t: Token, name: string): Node => {
    next();
    if (options.functions && !options.functions.has(name)) {
      throw syntax(src, t.pos, `unknown function "${name}"; known functions: ${[...options.functions].sort().join(', ')}`);
    }
    const args: Node[] = [];
    if (peek().type === 'op' && peek().text === ')') {
      next();
      return { kind: 'call', fn: name, args, pos: t.pos };
    }
    for (;;) {
      args.push(parseLevel(0));
      const sep = next();
      if (sep.type === 'op' && sep.text === ')') break;
      if (sep.type !== 'op' || sep.text !== ',') fail(sep, `expected "," or ")" in the arguments of ${name}()`);
    }
    return { kind: 'call', fn: name, args, pos: t.pos };
  };

  const root = parseLevel(0);
  const end = peek();
  if (end.type !== 'eof') fail(end, 'expected an operator or the end of the expression');
  return root;
}
