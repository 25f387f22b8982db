import type { BlockConfig } from '../config/types';

/**
 * Placement decides whether this node runs a block now. The node's rule is that every
 * placement added must agree: `from:` pins a block to the nodes it lists (quorum probing
 * from several locations), and a cluster gives each other block to exactly one live node.
 * A placement whose answer changes (a lease won or lost) calls `changed()` on the set, and
 * the engine starts or stops the blocks whose answer changed.
 */
export interface Placement {
  readonly name: string;
  runsHere(block: BlockConfig): boolean;
}

/** PlacementSet is the node's placements, and who to tell when one changes its answers. */
export class PlacementSet {
  private readonly list: Placement[] = [];
  private readonly listeners = new Set<() => void>();

  add(p: Placement): void {
    this.list.push(p);
    this.changed();
  }

  /** runsHere: whether every placement lets this node run the block. */
  runsHere(block: BlockConfig): boolean {
    for (const p of this.list) if (!p.runsHere(block)) return false;
    return true;
  }

  /** whyNot names the first placement that keeps the block off this node. */
  whyNot(block: BlockConfig): string | undefined {
    return this.list.find((p) => !p.runsHere(block))?.name;
  }

  /** changed tells the engine to look at every block again. */
  changed(): void {
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** fromPlacement keeps a block with `from: [nodes]` on the nodes it lists. */
export function fromPlacement(nodeName: () => string): Placement {
  return {
    name: 'from',
    runsHere: (b) => b.from === undefined || b.from.includes(nodeName()),
  };
}
