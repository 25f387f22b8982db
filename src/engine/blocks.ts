import { DEFAULT_EVERY_MS } from '../config/build';
import { BlockConfig, BlockMode, Config } from '../config/types';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { BlockHub, BlockInstance, BlockType, EmitOutput } from './block';
import { Result, sampleHeartbeat, SeriesNames } from './result';
import { BlockState, BlockStatus } from './state';
import { StateRows } from './state-rows';

/** ActiveBlock is one block of the running node. */
export interface ActiveBlock {
  config: BlockConfig;
  /** The configured mode, or passive for signalled types. */
  mode: BlockMode;
  instance: BlockInstance;
  state: BlockState;
  running: boolean;
  /**
   * When its last run not scheduled (on demand, once, a pipe's) started (the node clock's epoch
   * ms, 0 before the first), set as the run starts; a scheduled run's start is in its Result.
   */
  lastStart: number;
  /** Created at run time (a heartbeat made by a signal or `remon config`), not from monitor.yaml. */
  runtime: boolean;
  /** Taken off the node by a reload: its results are no longer recorded. */
  removed: boolean;
  /** The names of its series, made once. */
  series: SeriesNames;
  /** Its samples' heartbeat (sampleHeartbeat), made once: a run reads no config for it. */
  heartbeat: number;
  /** Its state's row in the BlockSet's StateRows (BlockState.at): a run records there without touching the state. */
  row: number;
}

/** BlockSetOptions: the types, the running config, the hubs, and where results go. */
export interface BlockSetOptions {
  types: ReadonlyMap<string, BlockType>;
  config(): Config;
  log: Logger;
  hub(type: string): BlockHub | undefined;
  handle(b: ActiveBlock, r: Result): void;
  /** samples publishes a block's samples without a result (BlockEnv.samples). */
  samples(b: ActiveBlock, fields: Record<string, number>, at: number): void;
  /** now is the node clock's wall time (epoch ms). */
  now(): number;
}

/** BlockSet holds the node's blocks by name: it creates them from their config, and closes them. */
export class BlockSet {
  private readonly blocks = new Map<string, ActiveBlock>();
  /** How many blocks have pipe steps: none (the common case) answers pipeOf without a lookup. */
  private piped = 0;
  /** The per-run part of the blocks' states, one array for all (see StateRows). */
  private readonly rows = new StateRows();

  constructor(private readonly o: BlockSetOptions) {}

  get size(): number {
    return this.blocks.size;
  }

  has(name: string): boolean {
    return this.blocks.has(name);
  }

  get(name: string): ActiveBlock | undefined {
    return this.blocks.get(name);
  }

  /** pipeOf is a block's pipe steps (undefined: no such block). */
  pipeOf(name: string): ActiveBlock['config']['pipe'] | undefined {
    return this.piped === 0 ? undefined : this.blocks.get(name)?.config.pipe;
  }

  values(): IterableIterator<ActiveBlock> {
    return this.blocks.values();
  }

  status(): BlockStatus[] {
    return [...this.blocks.values()].map((b) => b.state.snapshot());
  }

  /** runtimeConfig is the config of a block a hub adds at run time (passive: it is not scheduled). */
  runtimeConfig(type: string, name: string, o: Record<string, unknown>): BlockConfig {
    return {
      name, type, description: typeof o.description === 'string' ? o.description : '', mode: 'passive',
      // every as a configured block without one has it (passive blocks are not scheduled).
      everyMs: DEFAULT_EVERY_MS, timeoutMs: 0, disabled: false, pipe: [], options: Object.freeze({ ...o, name, type }),
    };
  }

  /** create makes a block's instance and adds it; the caller schedules it. */
  create(b: BlockConfig, runtime = false): ActiveBlock {
    const type = this.o.types.get(b.type);
    if (!type) throw createError('REMON_ERR_BLOCK_UNKNOWN', `block ${b.name}: unknown type ${b.type}`);
    const mode: BlockMode = type.passive ? 'passive' : b.mode;
    const state = new BlockState(b.name, b.type, mode, this.rows);
    const active: ActiveBlock = {
      config: b, mode, instance: undefined!, state, running: false, lastStart: 0, runtime, removed: false, series: new SeriesNames(b.name),
      heartbeat: sampleHeartbeat(mode, b.everyMs), row: state.at,
    };
    const config = this.o.config();
    active.instance = type.create(b.options, {
      name: b.name,
      configDir: config.dir,
      dataDir: config.node.data,
      log: this.o.log.child({ block: b.name }),
      emit: (out) => this.o.handle(active, emitted(active, out, this.o.now())),
      restore: (out) => active.state.restore(emitted(active, out, this.o.now())),
      samples: (fields, at) => this.o.samples(active, fields, at),
      hub: this.o.hub(b.type),
    });
    this.blocks.set(b.name, active);
    if (b.pipe.length > 0) this.piped++;
    return active;
  }

  /** record records a run's result on its block (the block's row, then its output). */
  record(b: ActiveBlock, r: Result): void {
    if (b.removed) return;
    this.rows.record(b.row, r);
    if (r.output !== undefined) b.state.showOutput(r);
  }

  /** remove takes a block off and closes its instance (a run in flight finishes unrecorded). */
  async remove(b: ActiveBlock): Promise<void> {
    b.removed = true;
    b.state.release();
    if (this.blocks.get(b.config.name) === b) {
      this.blocks.delete(b.config.name);
      if (b.config.pipe.length > 0) this.piped--;
    }
    try {
      await b.instance.close?.();
    } catch (err) {
      this.o.log.warn({ block: b.config.name, err: errorMessage(err) }, 'block did not close cleanly');
    }
  }

  /** closeAll closes every instance (the node stops). */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.blocks.values()].map(async (b) => b.instance.close?.()));
  }
}

/** emitted is the Result of what a (passive) block reported without a run. */
function emitted(b: ActiveBlock, out: EmitOutput, now: number): Result {
  const ok = out.ok !== false;
  return {
    block: b.config.name, type: b.config.type, ok, fields: out.fields ?? {}, kinds: out.kinds,
    message: ok ? '' : out.message || 'failed', startedAt: out.at ?? now, durationMs: 0, lagMs: 0, trigger: 'signal',
    output: out.output,
  };
}
