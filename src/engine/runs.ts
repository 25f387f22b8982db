import { performance } from 'node:perf_hooks';

/** Running is a run as its RunSet sees it (runner.ts's Run). */
export interface Running {
  /** When it times out (performance.now() ms). */
  deadline: number;
  prev?: Running;
  next?: Running;
  list?: TimeoutList;
  /** The block's own promise, once the block was called. */
  work?: Promise<unknown>;
  /** The block's promise settled. */
  workDone: boolean;
  timeout(): void;
  abort(reason: Error): void;
}

/**
 * TimeoutList holds the runs of one timeout in the order they started, which is the order
 * of their deadlines: one timer, for the first of them, serves the whole list, and a run
 * joins or leaves it in O(1) (what Node does for its own timers, without a timer object
 * and its async bookkeeping per run). The timer stays armed when the list empties (unref'd,
 * so it keeps no process alive): the runs of a slot start and end within one tick, and a
 * timer set and cleared for each slot cost more than the rest of the list.
 */
class TimeoutList {
  head?: Running;
  tail?: Running;
  private timer?: NodeJS.Timeout;
  /** The timer keeps the process alive (the list has runs). */
  private refed = false;
  private readonly fire = (): void => this.expire();

  add(r: Running): void {
    r.list = this;
    r.prev = this.tail;
    r.next = undefined;
    if (this.tail) this.tail.next = r;
    else this.head = r;
    this.tail = r;
    if (!this.timer) this.arm();
    else if (!this.refed) {
      this.timer.ref();
      this.refed = true;
    }
  }

  remove(r: Running): void {
    if (r.list !== this) return;
    if (r.prev) r.prev.next = r.next;
    else this.head = r.next;
    if (r.next) r.next.prev = r.prev;
    else this.tail = r.prev;
    r.prev = r.next = r.list = undefined;
    // An empty list keeps its timer (it goes off once, finds nothing and is not armed again),
    // but not the process alive.
    if (!this.head && this.refed) {
      this.timer!.unref();
      this.refed = false;
    }
  }

  private arm(): void {
    this.timer = this.head ? setTimeout(this.fire, Math.max(1, Math.ceil(this.head.deadline - performance.now()))) : undefined;
    this.refed = this.timer !== undefined;
  }

  private expire(): void {
    this.timer = undefined;
    this.refed = false;
    const now = performance.now();
    for (let r = this.head; r && r.deadline <= now; r = this.head) {
      this.remove(r);
      r.timeout();
    }
    if (!this.timer) this.arm();
  }
}

/**
 * RunSet is a node's runs in flight: it times them out, aborts them all when the node
 * stops, and knows when the blocks' own promises have all settled, including those of
 * blocks that ignored their abort and outlived their Result.
 */
export class RunSet {
  private readonly lists = new Map<number, TimeoutList>();
  /** Runs whose Result settled (timeout, stop) before the block's promise did. */
  private readonly lingering = new Set<Running>();
  private running = 0;
  private waiters: Array<() => void> = [];

  /** size is how many runs are in flight, and blocks still working past their Result. */
  get size(): number {
    return this.running + this.lingering.size;
  }

  /** start adds a run that times out after timeoutMs from `now` (performance.now(), read by the caller when it has it). */
  start(r: Running, timeoutMs: number, now = performance.now()): void {
    this.running++;
    r.deadline = now + timeoutMs;
    let list = this.lists.get(timeoutMs);
    if (!list) this.lists.set(timeoutMs, (list = new TimeoutList()));
    list.add(r);
  }

  /** end: the run's Result settled; a block still working is waited for by idle(). */
  end(r: Running): void {
    r.list?.remove(r);
    this.running--;
    if (r.work && !r.workDone) this.lingering.add(r);
    else this.notify();
  }

  /** settled: the block's promise of a run that had ended settled. */
  settled(r: Running): void {
    if (this.lingering.delete(r)) this.notify();
  }

  /** abortAll ends every run in flight with reason(). */
  abortAll(reason: () => Error): void {
    const all: Running[] = [];
    for (const list of this.lists.values()) for (let r = list.head; r; r = r.next) all.push(r);
    for (const r of all) r.abort(reason());
  }

  /** idle resolves when no run is in flight and every block's promise has settled. */
  async idle(): Promise<void> {
    while (this.size > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    if (this.size > 0 || this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
