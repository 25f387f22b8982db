import { Alias, Document, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, YAMLError } from 'yaml';
import { formatPath } from './messages';
import { Problem } from './types';

/** YAML_PATH is the path shown for problems in the YAML syntax itself. */
const YAML_PATH = '(YAML syntax)';

/** ParsedYaml is the document with its line counter, or the problems that stop the load. */
export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
  problems: Problem[];
}

/**
 * parseYaml parses monitor.yaml keeping positions (merge keys `<<` allowed), and words the
 * YAML library's errors for a user, at the place a user would look (the opening quote of
 * an unclosed string, the second of two duplicate keys); aliases to unknown anchors are
 * reported too. Any problem here stops the load: the structure is not trustworthy.
 */
export function parseYaml(text: string): ParsedYaml {
  const lines = new LineCounter();
  // logLevel 'error': the library would print its warnings to stderr (process.emitWarning),
  // such as "Keys with collection values will be stringified" for a mapping used as a key.
  // Whatever is wrong is reported as remon's own positioned problem; stderr holds only those.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, merge: true, logLevel: 'error' });
  const problems: Problem[] = [];
  const seen = new Set<number>();
  const add = (offset: number, path: string, message: string): void => {
    if (seen.has(offset)) return;
    seen.add(offset);
    const { line, col } = lines.linePos(offset);
    problems.push({ line, col, path, message });
  };
  // Duplicate keys and tabs are each their own mistake; of other syntax errors only the
  // first is reported, as the ones after it mostly follow from it.
  const independent = new Set(['DUPLICATE_KEY', 'TAB_AS_INDENT']);
  let syntaxReported = false;
  for (const e of doc.errors) {
    if (!independent.has(e.code)) {
      if (syntaxReported) continue;
      syntaxReported = true;
    }
    const w = word(doc, text, lines, e);
    add(w.offset, w.path, w.message);
  }
  visit(doc, {
    Alias(_key, node: Alias) {
      if (node.resolve(doc) === undefined) {
        add(node.range?.[0] ?? 0, YAML_PATH, `*${node.source} names no anchor; define &${node.source} on a value above it`);
      }
    },
  });
  return { doc, lines, problems };
}

function word(doc: Document, text: string, lines: LineCounter, e: YAMLError): { offset: number; path: string; message: string } {
  const offset = e.pos[0];
  const own = (message: string) => ({ offset, path: YAML_PATH, message });
  // `{ a: ${X} }`: the braces of ${X} end the flow collection.
  const dollar = text[offset] === '$' ? offset : offset - 1;
  const ref = e.code === 'DUPLICATE_KEY' ? null : /^\$\{[^}\s]*\}?/.exec(text.slice(dollar));
  if (ref) {
    const message = `${ref[0]} inside { } or [ ] must be quoted ("${ref[0]}"), or write the collection in block style`;
    return { offset: dollar, path: YAML_PATH, message };
  }
  switch (e.code) {
    case 'DUPLICATE_KEY': {
      const dup = findKey(doc, offset);
      if (!dup) return own('duplicate key; each key may appear once in a mapping');
      const first = lines.linePos(dup.firstOffset);
      const where = first.line === lines.linePos(offset).line ? `at column ${first.col}` : `on line ${first.line}`;
      return { offset, path: formatPath(dup.path), message: `"${dup.key}" is already set ${where}; each key may appear once in a mapping` };
    }
    case 'MISSING_CHAR':
      if (/quote/.test(e.message)) {
        const start = openingQuote(doc, offset);
        const message = `this quoted string is not closed; add the closing ${text[start ?? 0]}`;
        if (start !== undefined) return { offset: start, path: YAML_PATH, message };
      }
      break;
    case 'TAB_AS_INDENT':
      return own('tabs are not allowed for indentation; indent with spaces');
    case 'BLOCK_AS_IMPLICIT_KEY':
      return own('a value here starts a nested mapping; quote a value that contains ": ", or check the indentation of the lines below');
    case 'MULTILINE_IMPLICIT_KEY':
      return own('expected "key: value" on one line; is a ":" missing, or is the line below indented too far?');
    case 'MULTIPLE_DOCS':
      return own('the file holds more than one YAML document; remove the "---" separator');
    default:
      break;
  }
  const first = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return own(first.charAt(0).toLowerCase() + first.slice(1));
}

/** findKey finds the mapping key starting at offset: its path and where the same key first appears. */
function findKey(doc: Document, offset: number): { path: Array<string | number>; key: string; firstOffset: number } | undefined {
  const walk = (node: unknown, path: Array<string | number>): ReturnType<typeof findKey> => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
          const first = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
          return { path: [...path, key], key, firstOffset: (first!.key as { range?: number[] }).range?.[0] ?? offset };
        }
        const inner = walk(pair.value, [...path, key]);
        if (inner) return inner;
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const inner = walk(node.items[i], [...path, i]);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  return walk(doc.contents, []);
}

/** openingQuote finds the quoted scalar that runs to `end` (an unclosed string) and returns its start. */
function openingQuote(doc: Document, end: number): number | undefined {
  let start: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      if (quoted && node.range && node.range[1] >= end - 1 && start === undefined) start = node.range[0];
    },
  });
  return start;
}
