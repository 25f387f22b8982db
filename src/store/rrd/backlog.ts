import type { Sample } from '../store';

/**
 * Backlog holds the batches of samples the journal could not take (a full or read-only
 * disk), oldest first, bounded: past `max` samples the oldest are dropped and counted.
 */
export class Backlog {
  private batches: Sample[][] = [];
  /** Samples held now. */
  size = 0;
  /** Samples dropped since the store started. */
  dropped = 0;

  constructor(readonly max: number) {}

  get empty(): boolean {
    return this.batches.length === 0;
  }

  /** hold keeps a copy of a batch (the caller may reuse its array) and returns how many samples it dropped to stay bounded. */
  hold(samples: readonly Sample[]): number {
    this.batches.push(samples.slice());
    this.size += samples.length;
    let dropped = 0;
    while (this.size > this.max) {
      const first = this.batches[0];
      const n = Math.min(first.length, this.size - this.max);
      if (n === first.length) this.batches.shift();
      else this.batches[0] = first.slice(n);
      this.size -= n;
      dropped += n;
    }
    this.dropped += dropped;
    return dropped;
  }

  /** first is the oldest batch held. */
  first(): Sample[] | undefined {
    return this.batches[0];
  }

  /** shift forgets the oldest batch (it was journaled). */
  shift(): void {
    const b = this.batches.shift();
    if (b) this.size -= b.length;
  }
}
