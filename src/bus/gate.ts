import type { BusMessage } from './bus';

/** GateOptions: how many messages to hold, and what to do when one is dropped. */
export interface GateOptions {
  /** Messages held beyond this many are dropped and counted [100,000]. */
  maxHeld?: number;
  onDrop?: () => void;
}

/**
 * Gate stands in front of a bus subscriber that keeps windows of series (derive, SLA
 * tests). While it is held (hold/release, counted: the windows are being read back from
 * the store) messages wait, up to a bound; released, they are handled in order. A message
 * published while one is being handled (the subscriber's own output, or another
 * subscriber's that it set off: the bus delivers synchronously) is handled after it, never
 * inside it.
 */
export class Gate {
  private holds = 0;
  /** The messages held, oldest first (a read-back stops each series before their samples). */
  held: BusMessage[] = [];
  private busy = false;
  private readonly queue: BusMessage[] = [];
  /** Messages dropped while too many were held. */
  dropped = 0;

  constructor(private readonly process: (m: BusMessage) => void, private readonly o: GateOptions = {}) {}

  /** handle is the subscriber's handler. */
  readonly handle = (m: BusMessage): void => {
    if (this.holds > 0) {
      if (this.held.length < (this.o.maxHeld ?? 100_000)) {
        this.held.push(m);
      } else {
        this.dropped++;
        this.o.onDrop?.();
      }
      return;
    }
    if (this.busy) {
      this.queue.push(m);
      return;
    }
    this.busy = true;
    try {
      this.process(m);
      while (this.queue.length > 0) this.process(this.queue.shift()!);
    } finally {
      this.busy = false;
    }
  };

  /** hold makes messages wait until as many releases. */
  hold(): void {
    this.holds++;
  }

  /** release ends one hold; after the last, the held messages are handled. */
  release(): void {
    if (--this.holds > 0) return;
    const held = this.held;
    this.held = [];
    for (const m of held) this.handle(m);
  }
}
