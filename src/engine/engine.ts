import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_EVERY_MS } from '../config/build';
import { BlockConfig, BlockMode, Config, Step } from '../config/types';
import { createError } from '../errors';
import { Logger } from '../log';
import { runSteps } from '../pipe/steps';
import { createShared } from '../shared';
import { Shared } from '../shared/shared';
import { createStore } from '../store';
import { Sample, Store } from '../store/store';
import { WebServer } from '../web/server';
import { BlockHub, BlockInstance, BlockType, EmitOutput } from './block';
import { Result, resultSeries, Trigger } from './result';
import { runBlock, stopReason } from './runner';
import { Scheduler, SchedulerStats } from './scheduler';
import { BlockState, BlockStatus } from './state';

/** EngineOptions: what to run and with which parts; missing parts get defaults. */
export interface EngineOptions {
  config: Config;
  types: ReadonlyMap<string, BlockType>;
  log: Logger;
  store?: Store;
  shared?: Shared;
  /** Serve HTTP on node.listen (default true). */
  web?: boolean;
}

interface ActiveBlock {
  config: BlockConfig;
  /** The configured mode, or passive for signalled types. */
  mode: BlockMode;
  instance: BlockInstance;
  state: BlockState;
  running: boolean;
  /** The results a passive block emitted, handled one after another (pipes may await). */
  emitting?: Promise<void>;
}

/**
 * Engine is the composition root: it builds blocks from the config, schedules them, sends
 * each Result to the store, the pipe steps and listeners ('result' events), and serves
 * HTTP. start/stop are idempotent; stop aborts runs in flight and waits for them.
 */
export class Engine extends EventEmitter {
  readonly config: Config;
  readonly store: Store;
  readonly shared: Shared;
  readonly scheduler: Scheduler;
  readonly log: Logger;
  private readonly blocks = new Map<string, ActiveBlock>();
  /** The node-wide parts of block types (BlockType.hub), by type. */
  private readonly hubs = new Map<string, BlockHub>();
  private readonly stopController = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly controllers = new Set<AbortController>();
  private web?: WebServer;
  private started = false;
  private stopping?: Promise<void>;
  readonly startedAt = Date.now();

  constructor(private readonly options: EngineOptions) {
    super();
    this.config = options.config;
    this.log = options.log;
    this.scheduler = new Scheduler({ maxConcurrency: this.config.node.maxConcurrency });
    for (const type of options.types.values()) {
      if (!type.hub) continue;
      this.hubs.set(type.type, type.hub({
        config: this.config,
        log: this.log.child({ hub: type.type }),
        hasBlock: (name) => this.blocks.has(name),
        addBlock: (name, o) => this.addBlock({
          name, type: type.type, description: typeof o.description === 'string' ? o.description : '', mode: 'passive',
          // every as a configured block without one has it (passive blocks are not scheduled).
          everyMs: DEFAULT_EVERY_MS, timeoutMs: 0, disabled: false, pipe: [], options: Object.freeze({ ...o, name, type: type.type }),
        }),
      }));
    }
    for (const b of this.config.blocks) if (!b.disabled) this.createBlock(b);
    // Last, so a bad block leaves no connection or open files behind. stop() closes it,
    // whether built here or given.
    this.store = options.store ?? createStore(this.config, { log: this.log });
    this.shared = options.shared ?? createShared(this.config.shared, { dataDir: this.config.node.data, log: this.log });
  }

  /** start creates the data directory, starts the web server, and schedules the blocks. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    fs.mkdirSync(this.config.node.data, { recursive: true });
    for (const hub of this.hubs.values()) await hub.start?.();
    if (this.options.web !== false) {
      this.web = new WebServer({ engine: this, log: this.log });
      await this.web.start();
    }
    for (const b of this.blocks.values()) this.schedule(b);
    this.scheduler.start();
    this.log.info(
      { node: this.config.node.name, blocks: this.blocks.size, listen: this.web?.url, data: this.config.node.data },
      'remon started',
    );
  }

  /** stop: no new runs; runs in flight are aborted; everything is flushed and closed. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopController.abort();
    for (const c of this.controllers) c.abort(stopReason());
    await this.scheduler.stop();
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled([...this.blocks.values()].map(async (b) => b.instance.close?.()));
    await this.web?.stop();
    for (const hub of this.hubs.values()) await hub.stop?.();
    await Promise.allSettled([...this.inFlight]);
    await this.store.flush();
    await this.store.close();
    await this.shared.close();
    this.log.info({ node: this.config.node.name }, 'remon stopped');
  }

  /** addBlock adds a block while the node runs (e.g. a heartbeat created over HTTP). */
  addBlock(b: BlockConfig): void {
    if (this.blocks.has(b.name)) throw createError('REMON_ERR_BLOCK_EXISTS', `a block is named "${b.name}" already`);
    const added = this.createBlock(b);
    if (this.started && !this.stopping) this.schedule(added);
  }

  /** hub is the node-wide part of a block type (BlockType.hub), if it has one. */
  hub(type: string): BlockHub | undefined {
    return this.hubs.get(type);
  }

  private createBlock(b: BlockConfig): ActiveBlock {
    const type = this.options.types.get(b.type);
    if (!type) throw createError('REMON_ERR_BLOCK_UNKNOWN', `block ${b.name}: unknown type ${b.type}`);
    const mode: BlockMode = type.passive ? 'passive' : b.mode;
    const active: ActiveBlock = { config: b, mode, instance: undefined!, state: new BlockState(b.name, b.type, mode), running: false };
    active.instance = type.create(b.options, {
      name: b.name,
      configDir: this.config.dir,
      dataDir: this.config.node.data,
      log: this.log.child({ block: b.name }),
      emit: (out) => this.emitted(active, out),
      hub: this.hubs.get(b.type),
    });
    this.blocks.set(b.name, active);
    return active;
  }

  private schedule(b: ActiveBlock): void {
    if (b.mode === 'interval') {
      this.scheduler.add({
        id: b.config.name,
        everyMs: b.config.everyMs,
        run: (lag) => this.execute(b, 'schedule', lag),
        busy: () => b.running,
        onMissed: (n) => b.state.missed(n),
      });
    } else if (b.mode === 'once') {
      void this.execute(b, 'once', 0);
    }
  }

  /** emitted handles a result a (passive) block reported without a run. */
  private emitted(b: ActiveBlock, out: EmitOutput): void {
    const ok = out.ok !== false;
    const r: Result = {
      block: b.config.name, type: b.config.type, ok, fields: out.fields ?? {}, kinds: out.kinds,
      message: ok ? '' : out.message || 'failed', startedAt: out.at ?? Date.now(), durationMs: 0, lagMs: 0, trigger: 'signal',
      output: out.output,
    };
    // In order: a down must not reach listeners after the recovery that followed it.
    const next = (b.emitting ?? Promise.resolve()).then(() => this.handle(b, r));
    b.emitting = next.catch(() => undefined);
    this.track(next);
  }

  /** url of the web server once started (undefined when web is off). */
  get url(): string | undefined {
    return this.web?.url;
  }

  /** runOnce runs every active (not disabled, not passive) block once, concurrently. */
  async runOnce(): Promise<Result[]> {
    const active = [...this.blocks.values()].filter((b) => b.mode !== 'passive');
    return Promise.all(active.map((b) => this.execute(b, 'once', 0)));
  }

  /** runNow runs a block on demand (API, RPC, run steps); BUSY if it is running already. */
  async runNow(name: string, trigger: Trigger = 'demand', input?: Result): Promise<Result> {
    const b = this.blocks.get(name);
    if (!b) throw createError('REMON_ERR_BLOCK_UNKNOWN', `no block is named "${name}"`);
    if (b.mode === 'passive') throw createError('REMON_ERR_BLOCK_UNKNOWN', `block "${name}" is signalled, not run`);
    if (b.running) throw createError('REMON_ERR_BLOCK_BUSY', `block "${name}" is running already`);
    if (this.stopController.signal.aborted) throw createError('REMON_ERR_BLOCK_ABORTED', 'the node is stopping');
    return this.execute(b, trigger, 0, input);
  }

  status(): BlockStatus[] {
    return [...this.blocks.values()].map((b) => b.state.snapshot());
  }

  blockStatus(name: string): BlockStatus | undefined {
    return this.blocks.get(name)?.state.snapshot();
  }

  schedulerStats(): SchedulerStats {
    return this.scheduler.stats();
  }

  private async execute(b: ActiveBlock, trigger: Trigger, lagMs: number, input?: Result): Promise<Result> {
    b.running = true;
    let result: Result;
    try {
      result = await runBlock({
        config: b.config,
        instance: b.instance,
        trigger,
        lagMs,
        input,
        stop: this.stopController.signal,
        controllers: this.controllers,
        shared: this.shared,
        log: this.log,
        track: (p) => this.track(p),
      });
    } finally {
      b.running = false;
    }
    await this.handle(b, result);
    return result;
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** handle sends a result on: state, store, pipe steps, listeners. */
  private async handle(b: ActiveBlock, r: Result): Promise<void> {
    b.state.record(r);
    if (!r.ok) this.log.debug({ block: r.block, message: r.message }, 'block failed');
    // The store's "unknown after" hint: two intervals for scheduled blocks; passive blocks
    // report on events, so their values hold for up to two days.
    const heartbeat = b.mode === 'passive' ? 172_800 : Math.max(1, Math.ceil((2 * b.config.everyMs) / 1000));
    // Fields spelled out: an object spread per sample costs more than the rest of handle.
    const samples: Sample[] = resultSeries(r).map((s) => ({ series: s.series, value: s.value, kind: s.kind, t: r.startedAt, heartbeat }));
    this.store.write(samples);
    if (b.config.pipe.length > 0) {
      await runSteps(b.config.pipe, r, {
        shared: this.shared,
        runBlock: (name, input) => this.runNow(name, 'pipe', input),
        onError: (step: Step, message: string) => {
          b.state.pipeError(`${step.kind}: ${message}`);
          this.log.warn({ block: b.config.name, step: step.kind, err: message }, 'pipe step failed');
        },
      });
    }
    this.emit('result', r);
  }

  /** dataPath is a path under node.data. */
  dataPath(...parts: string[]): string {
    return path.join(this.config.node.data, ...parts);
  }
}
