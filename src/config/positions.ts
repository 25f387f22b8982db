import { Document, isMap, isScalar, isSeq, LineCounter, Node as YamlNode, Pair, Scalar } from 'yaml';

/** Position is 1-based line and column. */
export interface Position {
  line: number;
  col: number;
}

/**
 * Locator maps value paths of a parsed document to source positions. A path that does not
 * exist (a missing key) resolves to the nearest existing parent.
 */
export class Locator {
  constructor(private readonly doc: Document, private readonly lines: LineCounter, private readonly text: string) {}

  at(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  /** node returns the deepest node on the path, and the key node when the path ends at a key. */
  private walk(path: ReadonlyArray<string | number>): { node: YamlNode | null; key?: YamlNode; complete: boolean } {
    let node = this.doc.contents as YamlNode | null;
    let key: YamlNode | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p: Pair) => keyText(p.key) === String(seg));
        if (!pair) return { node, complete: false };
        key = pair.key as YamlNode;
        node = (pair.value as YamlNode | null) ?? (key as YamlNode);
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        key = undefined;
        node = node.items[seg] as YamlNode;
      } else {
        return { node, complete: false };
      }
    }
    return { node, key, complete: true };
  }

  /** position of the value at path, or of its key when atKey is set. */
  position(path: ReadonlyArray<string | number>, atKey = false): Position {
    const { node, key, complete } = this.walk(path);
    const target = atKey && complete && key ? key : node;
    const offset = target?.range?.[0] ?? 0;
    return this.at(offset);
  }

  /** scalar returns the scalar node at path, if that is what is there. */
  scalar(path: ReadonlyArray<string | number>): Scalar | undefined {
    const { node, complete } = this.walk(path);
    return complete && isScalar(node) ? node : undefined;
  }

  /**
   * inScalar is the position of the character at `offset` in a scalar's value (an
   * expression error, a ${VAR}). The value is aligned with the source text, so quotes,
   * escapes, block scalars and folded lines still give the right column; when the two
   * cannot be aligned, the scalar's start is used. `value` is the text `offset` refers to
   * when it is not the node's current value (before ${VAR} expansion).
   */
  inScalar(node: Scalar, offset: number, value = String(node.value)): Position {
    const [start, end] = node.range ?? [0, 0];
    const source = this.text.slice(start, end);
    let j = 0;
    if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) j = source.indexOf('\n') + 1;
    else if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) j = 1;
    for (let i = 0; i < Math.min(offset, value.length); i++) {
      while (j < source.length && source[j] !== value[i]) j++;
      if (j >= source.length) return this.at(start);
      j++;
    }
    if (offset < value.length) {
      while (j < source.length && source[j] !== value[offset]) j++;
      if (j >= source.length) return this.at(start);
    }
    return this.at(start + j);
  }
}

function keyText(k: unknown): string | undefined {
  if (isScalar(k)) return String(k.value);
  return typeof k === 'string' ? k : undefined;
}
