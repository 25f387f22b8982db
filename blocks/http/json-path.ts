/**
 * A small JSONPath subset for `expect.json`, parsed once and never evaluated as code:
 *
 *   $                the document
 *   .name            a key (any characters but . [ ] and spaces)
 *   ["any key"]      a key in double or single quotes (for keys with dots or spaces)
 *   [2], [-1]        an array item; negative counts from the end
 *   .length          the length of an array or string (when it has no key "length")
 *
 * Wildcards, filters and recursive descent are left out on purpose: an assertion names one
 * value.
 */

/** PathSegment is one step of a parsed path. */
export type PathSegment = { key: string } | { index: number };

/** parseJsonPath parses a path; it throws an Error whose message says what is wrong. */
export function parseJsonPath(text: string): PathSegment[] {
  if (!text.startsWith('$')) throw new Error('must start with $ (the document), e.g. $.data.status');
  const segs: PathSegment[] = [];
  let i = 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      const m = /^[^.[\]\s]+/.exec(text.slice(i + 1));
      if (!m) throw new Error(`expected a key after the "." at character ${i + 1}`);
      segs.push({ key: m[0] });
      i += 1 + m[0].length;
    } else if (c === '[') {
      const rest = text.slice(i);
      const num = /^\[(-?\d+)\]/.exec(rest);
      const quoted = /^\[(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\]/.exec(rest);
      if (num) {
        segs.push({ index: Number(num[1]) });
        i += num[0].length;
      } else if (quoted) {
        const raw = quoted[1] ?? quoted[2];
        segs.push({ key: raw.replace(/\\(.)/g, '$1') });
        i += quoted[0].length;
      } else {
        throw new Error(`expected [number] or ["key"] at character ${i + 1}`);
      }
    } else {
      throw new Error(`unexpected "${c}" at character ${i + 1}; write .key, ["key"] or [index]`);
    }
  }
  return segs;
}

/** Lookup is a path's value, or why there is none. */
export type Lookup = { found: true; value: unknown } | { found: false; why: string };

/** formatSegments renders segments back to path text ($.a[0]["b c"]). */
export function formatSegments(segs: readonly PathSegment[]): string {
  return `$${segs.map((s) => ('index' in s ? `[${s.index}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s.key) ? `.${s.key}` : `[${JSON.stringify(s.key)}]`)).join('')}`;
}

/** lookup follows a parsed path through a JSON document. */
export function lookup(doc: unknown, segs: readonly PathSegment[]): Lookup {
  let cur = doc;
  for (let n = 0; n < segs.length; n++) {
    const seg = segs[n];
    const at = formatSegments(segs.slice(0, n));
    if ('index' in seg) {
      if (!Array.isArray(cur)) return { found: false, why: `${at} is ${kindOf(cur)}, not a list` };
      const i = seg.index < 0 ? cur.length + seg.index : seg.index;
      if (i < 0 || i >= cur.length) return { found: false, why: `${at} has ${cur.length} items, no [${seg.index}]` };
      cur = cur[i];
      continue;
    }
    if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && Object.prototype.hasOwnProperty.call(cur, seg.key)) {
      cur = (cur as Record<string, unknown>)[seg.key];
    } else if (seg.key === 'length' && (Array.isArray(cur) || typeof cur === 'string')) {
      cur = cur.length;
    } else if (Array.isArray(cur) && /^\d+$/.test(seg.key) && Number(seg.key) < cur.length) {
      cur = cur[Number(seg.key)];
    } else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) {
      return { found: false, why: `${at} has no key "${seg.key}"` };
    } else {
      return { found: false, why: `${at} is ${kindOf(cur)}, not an object` };
    }
  }
  return { found: true, value: cur };
}

/** kindOf names a JSON value's kind for messages. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}
