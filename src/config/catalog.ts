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
 * is open: any `<block>.<field>` may exist. Block series are not spelled out until asked
 * for, so a config of 20,000 blocks costs one map entry each.
 */
export class SeriesCatalog {
  private readonly blocks = new Map<string, BlockSeriesInfo>();
  /** Series added by name, by prefix (the part before the first dot). */
  private readonly added = new Map<string, Set<string>>();

  /** addBlock adds a block's series; `fields` undefined makes its field set open. */
  addBlock(name: string, info: BlockSeriesInfo = {}): void {
    this.blocks.set(name, info);
  }

  /** add adds one series by its full name (a derived series). */
  add(series: string): void {
    const prefix = prefixOf(series);
    let set = this.added.get(prefix);
    if (!set) this.added.set(prefix, (set = new Set()));
    set.add(series);
  }

  /** has tells whether the series is known, or may exist because its block is open. */
  has(series: string): boolean {
    const prefix = prefixOf(series);
    if (this.added.get(prefix)?.has(series)) return true;
    const block = this.blocks.get(prefix);
    if (!block || series.length <= prefix.length + 1) return false;
    const field = series.slice(prefix.length + 1);
    if (field === 'up' || (field === 'duration_ms' && !block.passive)) return true;
    return block.fields === undefined || block.fields.includes(field);
  }

  /** isOpen tells whether a block's fields are not known before it runs. */
  isOpen(block: string): boolean {
    const b = this.blocks.get(block);
    return b !== undefined && b.fields === undefined;
  }

  /** openBlocks lists the blocks whose field sets are open, sorted. */
  openBlocks(): string[] {
    return [...this.blocks].filter(([, b]) => b.fields === undefined).map(([name]) => name).sort();
  }

  /** series lists every known series name, sorted (open blocks add only up and duration_ms). */
  series(): string[] {
    return [...new Set([...this.blocks.keys(), ...this.added.keys()])].flatMap((p) => this.named(p)).sort();
  }

  /** named lists the known series under a prefix: a block's, then the added ones. */
  private named(prefix: string): string[] {
    const out: string[] = [];
    const block = this.blocks.get(prefix);
    if (block) {
      out.push(`${prefix}.up`);
      if (!block.passive) out.push(`${prefix}.duration_ms`);
      for (const f of block.fields ?? []) out.push(`${prefix}.${f}`);
    }
    for (const s of this.added.get(prefix) ?? []) if (!out.includes(s)) out.push(s);
    return out;
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
    if (this.blocks.has(prefix) || this.added.has(prefix)) {
      const near = this.nearField(prefix, series);
      if (near) return `did you mean "${near}"?`;
      if (this.isOpen(prefix)) return `expected ${prefix}.<field>`;
      return `expected one of: ${this.named(prefix).join(', ')}`;
    }
    const block = suggest(prefix, [...this.blocks.keys(), ...this.added.keys()]);
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
    const fields = this.named(prefix).map((s) => s.slice(prefix.length + 1));
    const near = suggest(field, fields) ?? (field.length >= 2 ? fields.find((f) => f.startsWith(field)) : undefined);
    return near === undefined ? undefined : `${prefix}.${near}`;
  }
}
