/**
 * The expression language shared by pipe conditions (`if: "up == 0"`), SLA tests and
 * derived series. It is parsed, never evaluated as JavaScript.
 */
export type Node =
  | { kind: 'num'; value: number; pos: number }
  | { kind: 'str'; value: string; pos: number }
  | { kind: 'bool'; value: boolean; pos: number }
  | { kind: 'null'; pos: number }
  | { kind: 'ident'; name: string; pos: number }
  /** A duration literal (`5m`, `500ms`, `1h30m`): a window in series expressions; `text` as written. */
  | { kind: 'dur'; ms: number; text: string; pos: number }
  | { kind: 'call'; fn: string; args: Node[]; pos: number }
  | { kind: 'unary'; op: '-' | '!'; arg: Node; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node; pos: number }
  /** `arg between low and high`: low <= arg <= high, both bounds included; pos is the word's. */
  | { kind: 'between'; arg: Node; low: Node; high: Node; pos: number };

export type BinaryOp =
  | '||' | '&&'
  | '==' | '!=' | '<' | '<=' | '>' | '>=' | '=~'
  | '+' | '-' | '*' | '/' | '%';

/** Value is what an expression evaluates to; null stands for "no value" (a missing field). */
export type Value = number | string | boolean | null;

/** identifiers lists every identifier an expression reads, in order of appearance. */
export function identifiers(node: Node): string[] {
  const out: string[] = [];
  const walk = (n: Node): void => {
    switch (n.kind) {
      case 'ident': out.push(n.name); break;
      case 'call': n.args.forEach(walk); break;
      case 'unary': walk(n.arg); break;
      case 'binary': walk(n.left); walk(n.right); break;
      case 'between': walk(n.arg); walk(n.low); walk(n.high); break;
      default: break;
    }
  };
  walk(node);
  return out;
}
