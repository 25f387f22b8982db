import { createError } from '../errors';
import { parseDuration } from '../util/duration';

/** Token is one lexical unit of an expression; pos is its 0-based offset in the source. */
export interface Token {
  type: 'num' | 'str' | 'ident' | 'dur' | 'op' | 'eof';
  text: string;
  value?: number | string;
  pos: number;
}

const OPERATORS = ['==', '!=', '<=', '>=', '=~', '&&', '||', '<', '>', '+', '-', '*', '/', '%', '!', '(', ')', ','];
/** LOOKALIKES: hints for single characters that are half of an operator. */
const LOOKALIKES: Record<string, string> = {
  '=': '; use == to compare',
  '&': '; use && or the word "and"',
  '|': '; use || or the word "or"',
  '~': '; use =~ to match a regular expression',
};
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_.]/;
const DIGIT = /[0-9]/;
/** A duration as monitor.yaml writes it (500ms, 5m, 1h30m), not followed by a name character. */
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+(?![A-Za-z0-9_.])/;

/** LexOptions: whether duration literals (`5m`) are tokens; without, `5m` is a number and a name. */
export interface LexOptions {
  durations?: boolean;
}

/**
 * tokenize splits an expression into tokens. Identifiers may contain dots
 * (`homepage.total_ms`); a name with other characters is written in backquotes
 * (`` `nightly-backup.up` ``).
 */
export function tokenize(src: string, options: LexOptions = {}): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const start = i;
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(src[i + 1] ?? ''))) {
      if (options.durations && DIGIT.test(c)) {
        const d = duration(src, i);
        if (d) {
          i += d.text.length;
          tokens.push(d);
          continue;
        }
      }
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i))!;
      i += m[0].length;
      tokens.push({ type: 'num', text: m[0], value: Number(m[0]), pos: start });
      continue;
    }
    if (IDENT_START.test(c)) {
      while (i < src.length && IDENT_PART.test(src[i])) i++;
      tokens.push({ type: 'ident', text: src.slice(start, i), value: src.slice(start, i), pos: start });
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw syntax(src, start, 'unterminated `name`; add the closing `');
      const name = src.slice(i + 1, end);
      if (name === '') throw syntax(src, start, 'empty `name`; write a series or field name between the backquotes');
      i = end + 1;
      tokens.push({ type: 'ident', text: src.slice(start, i), value: name, pos: start });
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) { value += src[j + 1]; j += 2; continue; }
        value += src[j++];
      }
      if (j >= src.length) throw syntax(src, start, `unterminated string; add the closing ${c}`);
      i = j + 1;
      tokens.push({ type: 'str', text: src.slice(start, i), value, pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw syntax(src, start, `unexpected character "${c}"${LOOKALIKES[c] ?? ''}`);
    i += op.length;
    tokens.push({ type: 'op', text: op, pos: start });
  }
  tokens.push({ type: 'eof', text: '', pos: src.length });
  return tokens;
}

/**
 * duration reads a duration literal at i, or undefined when the number there has no unit;
 * a number run into other letters (`5x`, `5min`) is an error naming the units.
 */
function duration(src: string, i: number): Token | undefined {
  const rest = src.slice(i);
  const m = DURATION.exec(rest);
  if (m) return { type: 'dur', text: m[0], value: parseDuration(m[0]), pos: i };
  const word = /^\d+(?:\.\d+)?[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
  if (word && !/^\d+(?:\.\d+)?[eE][+-]?\d*$/.test(word[0])) {
    throw syntax(src, i, `"${word[0]}" is not a duration; write a number and a unit: 500ms, 30s, 5m, 2h, 1d or 1w`);
  }
  return undefined;
}

/**
 * SyntaxProblem is the error for a malformed expression: `reason` says what is wrong,
 * `pos` (0-based) where; the message adds the column and the text for readers who do not
 * see the source (the config loader shows `reason` at the position in the file instead).
 */
export type SyntaxProblem = Error & { pos: number; reason: string };

/** syntax builds the error for a malformed expression. */
export function syntax(src: string, pos: number, reason: string): SyntaxProblem {
  return Object.assign(createError('REMON_ERR_EXPR_SYNTAX', `${reason} at column ${pos + 1} of "${src}"`), { pos, reason });
}
