import { suggest } from './messages';
import type { Path, SectionIssue } from './section';

/** BlockSeriesInfo is what the catalog needs to know of a block. */
export interface BlockSeriesInfo {
  /** Passive blocks (heartbeats) are signalled, not run: they have no duration_ms. */
  passive?: boolean;
  /** The fields the block emits; undefined when they are not known before it runs. */
  fields?: readonly string[];
}

/** prefixOf is the part of a series name before its first dot (a block name). */
function prefixOf(series: string): string {
  const dot = series.indexOf('.');
  return dot < 0 ? series : series.slice(0, dot);
}

/**
 * SeriesCatalog lists the series names a config makes, for checks of sections that refer
 * to series (derive, slas): every block's `<block>.up`, `<block>.duration_ms` (not for
 * passive blocks) and `<block>.<field>` for the fields its type declares, plus the series
 * other sections add (derived series). A block whose fields are not known before it runs
 * is open: any `<block>.<field>` may exist.
 */
export class SeriesCatalog {
  /** Known series by prefix (the part before the first dot). */
  private readonly byPrefix = new Map<string, Set<string>>();
  private readonly open = new Set<string>();

  /** addBlock adds a block's series; `fields` undefined makes its field set open. */
  addBlock(name: string, info: BlockSeriesInfo = {}): void {
    this.add(`${name}.up`);
    if (!info.passive) this.add(`${name}.duration_ms`);
    if (info.fields === undefined) this.open.add(name);
    else for (const f of info.fields) this.add(`${name}.${f}`);
  }

  /** add adds one series by its full name (a derived series). */
  add(series: string): void {
    const prefix = prefixOf(series);
    let set = this.byPrefix.get(prefix);
    if (!set) this.byPrefix.set(prefix, (set = new Set()));
    set.add(series);
  }

  /** has tells whether the series is known, or may exist because its block is open. */
  has(series: string): boolean {
    const prefix = prefixOf(series);
    if (this.byPrefix.get(prefix)?.has(series)) return true;
    return series.length > prefix.length + 1 && this.open.has(prefix);
  }

  /** isOpen tells whether a block's fields are not known before it runs. */
  isOpen(block: string): boolean {
    return this.open.has(block);
  }

  /** openBlocks lists the blocks whose field sets are open, sorted. */
  openBlocks(): string[] {
    return [...this.open].sort();
  }

  /** series lists every known series name, sorted (open blocks add only up and duration_ms). */
  series(): string[] {
    return [...this.byPrefix.values()].flatMap((s) => [...s]).sort();
  }

  /**
   * check returns an issue at `path` when no series has the name, with the closest known
   * name as a suggestion: `no series is named "homepage.totl_ms"; did you mean
   * "homepage.total_ms"?`. Any field of an open block is accepted.
   */
  check(series: string, path: Path): SectionIssue | undefined {
    if (this.has(series)) return undefined;
    return { path, message: `no series is named "${series}"; ${this.hint(series)}` };
  }

  /** hint suggests a close name: within the same block, or in the block whose name is closest. */
  private hint(series: string): string {
    const prefix = prefixOf(series);
    const own = this.byPrefix.get(prefix);
    if (own) {
      const near = this.nearField(prefix, series);
      if (near) return `did you mean "${near}"?`;
      if (this.open.has(prefix)) return `expected ${prefix}.<field>`;
      return `expected one of: ${[...own].join(', ')}`;
    }
    const block = suggest(prefix, [...this.byPrefix.keys()]);
    if (block) {
      const renamed = `${block}${series.slice(prefix.length)}`;
      const near = this.has(renamed) ? renamed : this.nearField(block, renamed);
      if (near) return `did you mean "${near}"?`;
      return `no block is named "${prefix}"; did you mean "${block}"?`;
    }
    return `no block or derived series is named "${prefix}"; expected <block>.<field>`;
  }

  /** nearField is the series under prefix whose field is a likely typo (or the completion) of the field of `series`. */
  private nearField(prefix: string, series: string): string | undefined {
    const field = series.slice(prefix.length + 1);
    if (field === '') return undefined;
    const fields = [...(this.byPrefix.get(prefix) ?? [])].map((s) => s.slice(prefix.length + 1));
    const near = suggest(field, fields) ?? (field.length >= 2 ? fields.find((f) => f.startsWith(field)) : undefined);
    return near === undefined ? undefined : `${prefix}.${near}`;
  }
}
