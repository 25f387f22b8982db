import { errorMessage } from '../errors';
import type { Logger } from '../log';

/**
 * Component is a part of the node with a start and a stop (the store, shared state, the
 * bus, block hubs, the scheduler, the web server, and next derive, SLAs, alerts, RPC). It
 * names the components it needs started before it; stop runs in the reverse order.
 */
export interface Component {
  name: string;
  /** Components started before this one (and stopped after it). */
  after?: readonly string[];
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

/**
 * Lifecycle starts components in the order their `after` lists give (ties in the order
 * they were added) and stops them in reverse, every one of them whether or not its start
 * ran (a store opened by the constructor is closed all the same): a component's stop must
 * be safe without its start. A start that throws stops everything and rethrows; a stop
 * that throws is logged and the others still stop.
 */
export class Lifecycle {
  private readonly components: Component[] = [];
  private stopping?: Promise<void>;

  constructor(private readonly log: Logger) {}

  add(c: Component): void {
    if (this.components.some((x) => x.name === c.name)) throw new Error(`a component is named "${c.name}" already`);
    this.components.push(c);
  }

  /** order is the start order; it throws on an unknown name or a cycle. */
  order(): Component[] {
    const byName = new Map(this.components.map((c) => [c.name, c]));
    const out: Component[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (c: Component, path: string[]): void => {
      const s = state.get(c.name);
      if (s === 'done') return;
      if (s === 'visiting') throw new Error(`components start in a loop: ${[...path, c.name].join(' → ')}`);
      state.set(c.name, 'visiting');
      for (const dep of c.after ?? []) {
        const d = byName.get(dep);
        if (!d) throw new Error(`component "${c.name}" starts after "${dep}", which does not exist`);
        visit(d, [...path, c.name]);
      }
      state.set(c.name, 'done');
      out.push(c);
    };
    for (const c of this.components) visit(c, []);
    return out;
  }

  async start(): Promise<void> {
    for (const c of this.order()) {
      try {
        await c.start?.();
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
  }

  /** stop stops every component once, in reverse start order; later calls wait for the first. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    for (const c of this.order().reverse()) {
      try {
        await c.stop?.();
      } catch (err) {
        this.log.error({ component: c.name, err: errorMessage(err) }, 'component failed to stop');
      }
    }
  }
}
