import * as fs from 'node:fs';
import { Bus, BusStats } from '../bus';
import { Clock, realClock } from '../clock';
import { formatProblem, LoadedConfig } from '../config/load';
import { Config, Problem } from '../config/types';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import type { NodeApi, ReloadReport } from '../ops/node';
import { OpTable } from '../ops/table';
import { PipeRunner } from '../pipe/runner';
import { createShared } from '../shared';
import { sharedOps } from '../shared/ops';
import { Shared } from '../shared/shared';
import { createStore } from '../store';
import { storeOps } from '../store/ops';
import { Sample, Store } from '../store/store';
import { Collector, metricsRoute } from '../web/routes/metrics';
import { WebRoute, WebServer } from '../web/server';
import { ActiveBlock, BlockSet } from './blocks';
import { BlockHub, BlockType } from './block';
import { Lifecycle, Component } from './lifecycle';
import type { NodePlugin, PluginHost } from './plugin';
import { fromPlacement, PlacementSet } from './placement';
import { blockMetrics, busMetrics, schedulerMetrics, storeMetrics } from './metrics';
import { engineOps } from './ops';
import { applyReload } from './reload';
import { Result, resultSeries, Trigger } from './result';
import { RunRequest, runBlock, RunSet, startRun, stopReason } from './runner';
import { RunEnd, Scheduler, SchedulerStats } from './scheduler';
import { BlockJob, ScheduledRun } from './block-job';
import { BlockStatus } from './state';

/** PLACED_FIRST_MS: a block a placement gives this node while it runs has its first run within this long (spread by name). */
const PLACED_FIRST_MS = 1000;

/** EngineOptions: what to run and with which parts; missing parts get defaults. */
export interface EngineOptions {
  config: Config;
  types: ReadonlyMap<string, BlockType>;
  log: Logger;
  store?: Store;
  shared?: Shared;
  /** The node's clock (tests pass a fake one). */
  clock?: Clock;
  /** Serve HTTP on node.listen (default true). */
  web?: boolean;
  /** How to read monitor.yaml again for a reload (POST /api/reload, SIGHUP); without it a reload is refused. */
  loadConfig?: () => Promise<LoadedConfig>;
  /** Subsystems that plug into the node's seams (derived series, SLA tests, ...): src/registry.ts lists them. */
  plugins?: readonly NodePlugin[];
}

/**
 * Engine is the composition root: it builds blocks from the config and wires the node's
 * seams. Results pass one bus (the store and pipe steps are subscribers; later derive,
 * SLA tests and the live hub); operations are declared in one table that the web routes
 * (and next RPC) call; components start and stop in the order they declare; time comes
 * from one clock. start/stop are idempotent; stop aborts runs in flight and waits for them.
 */
export class Engine implements NodeApi {
  private current: Config;
  readonly store: Store;
  readonly shared: Shared;
  readonly scheduler: Scheduler;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly log: Logger;
  /** The operations table: subsystems add theirs before start. */
  readonly ops: OpTable;
  /** Route modules of the web server: subsystems add theirs before start. */
  readonly routes: WebRoute[] = [];
  /** Metrics collectors by name, rendered by GET /metrics. */
  readonly metrics = new Map<string, Collector>();
  /** Which blocks this node runs: `from:` lists, and a cluster's leases (plugins add theirs). */
  readonly placement = new PlacementSet();
  readonly lifecycle: Lifecycle;
  readonly startedAt = Date.now();
  private readonly blocks: BlockSet;
  private readonly pipes: PipeRunner;
  /** The node-wide parts of block types (BlockType.hub), by type. */
  private readonly hubs = new Map<string, BlockHub>();
  private readonly stopController = new AbortController();
  /** The runs in flight: their timeouts, a stop's abort, and the blocks' promises a stop waits for. */
  private readonly runs = new RunSet();
  private web?: WebServer;
  private started = false;
  private stopping?: Promise<void>;
  private reloading: Promise<unknown> = Promise.resolve();
  /** runScheduled is a scheduled run of a block (one function for every BlockJob). */
  private readonly runScheduled = (b: ActiveBlock, lag: number): Promise<Result> => this.execute(b, 'schedule', lag);
  /**
   * startScheduled starts a scheduled run without a promise: `done` tells the scheduler it
   * ended (see Job.start). The request carries the block and `done` to scheduledDone; it is
   * made at the block's first run and reused by the next ones (a block's scheduled runs
   * never overlap). The lag and the start go to the run as arguments, not into the request:
   * at 100,000 blocks each number written there would be one more heap number out of cache.
   */
  private readonly startScheduled = (b: ActiveBlock, lag: number, done: RunEnd, req?: ScheduledRun): ScheduledRun => {
    b.running = true;
    // Not kept in b.lastStart (a heap number of its own to write): the run's Result has it (see place()).
    const at = this.clock.now();
    req ??= {
      config: b.config, instance: b.instance, trigger: 'schedule', lagMs: 0, stop: this.stopController.signal, runs: this.runs,
      shared: this.shared, log: this.log, now: this.now, owner: b, done, name: b.config.name, type: b.config.type, timeoutMs: b.config.timeoutMs,
    };
    startRun(req, this.scheduledDone, lag, at);
    return req;
  };
  private readonly scheduledDone = (r: Result, req: RunRequest): void => {
    const b = req.owner as ActiveBlock;
    b.running = false;
    let failure: unknown;
    try {
      this.handle(b, r);
    } catch (err) {
      // A bug in handling a result: counted and logged by the scheduler, never unhandled.
      failure = err ?? new Error('a result handler threw');
    }
    (req as ScheduledRun).done.end(failure);
  };
  /** now is the node clock's wall time: when runs start, so samples carry the node's time. */
  private readonly now = (): number => this.clock.now();

  constructor(private readonly options: EngineOptions) {
    this.current = options.config;
    this.log = options.log;
    this.clock = options.clock ?? realClock;
    this.bus = new Bus(this.log);
    this.scheduler = new Scheduler({
      maxConcurrency: this.config.node.maxConcurrency,
      clock: this.clock,
      onError: (id, err) => this.log.error({ block: id, err: errorMessage(err) }, 'a block run failed outside its result'),
    });
    this.blocks = new BlockSet({
      types: options.types,
      config: () => this.config,
      log: this.log,
      hub: (type) => this.hubs.get(type),
      handle: (b, r) => this.handle(b, r),
      samples: (b, fields, at) => this.publishSamples(b, fields, at),
      now: () => this.clock.now(),
    });
    for (const type of options.types.values()) {
      if (!type.hub) continue;
      this.hubs.set(type.type, type.hub({
        config: this.config,
        clock: this.clock,
        log: this.log.child({ hub: type.type }),
        hasBlock: (name) => this.blocks.has(name),
        addBlock: (name, o) => this.addBlock(this.blocks.runtimeConfig(type.type, name, o)),
      }));
    }
    for (const b of this.config.blocks) if (!b.disabled) this.blocks.create(b);
    // Last, so a bad block leaves no connection or open files behind. stop() closes it,
    // whether built here or given.
    this.store = options.store ?? createStore(this.config, { log: this.log });
    this.shared = options.shared ?? createShared(this.config.shared, { dataDir: this.config.node.data, log: this.log });
    this.pipes = new PipeRunner({
      shared: this.shared,
      pipeOf: (name) => this.blocks.pipeOf(name),
      runBlock: (name, input) => this.runNow(name, 'pipe', input),
      onError: (name, what, message) => {
        this.blocks.get(name)?.state.pipeError(`${what}: ${message}`);
        this.log.warn({ block: name, step: what, err: message }, 'pipe step failed');
      },
    });
    this.bus.subscribe('store', (m) => this.store.write(m.samples));
    this.bus.subscribe('pipe', (m) => this.pipes.handle(m));
    this.ops = new OpTable(this);
    this.ops.add(...engineOps, ...storeOps, ...sharedOps);
    // Block types bring their own operations and routes through their hubs.
    for (const hub of this.hubs.values()) {
      if (hub.ops) this.ops.add(...hub.ops);
      if (hub.routes) this.routes.push(...hub.routes);
    }
    this.routes.push(metricsRoute(this.metrics));
    this.metrics.set('scheduler', schedulerMetrics(() => this.schedulerStats()));
    this.metrics.set('store', storeMetrics(() => this.store.status()));
    this.metrics.set('bus', busMetrics(() => this.busStats()));
    this.metrics.set('blocks', blockMetrics(() => this.status()));
    this.lifecycle = new Lifecycle(this.log);
    for (const c of this.components()) this.lifecycle.add(c);
    this.placement.add(fromPlacement(() => this.config.node.name));
    this.placement.onChange(() => this.place());
    const host: PluginHost = {
      config: this.config, clock: this.clock, log: this.log, bus: this.bus, store: this.store, shared: this.shared,
      node: this, ops: this.ops, routes: this.routes, metrics: this.metrics, placement: this.placement,
      addComponent: (c) => this.lifecycle.add(c),
    };
    for (const p of options.plugins ?? []) p.install(host);
  }

  /** config is the running config (a reload replaces it). */
  get config(): Config {
    return this.current;
  }

  /**
   * components are the node's parts in start order: shared state and the store first, the
   * bus after them (stopping it drains the deliveries in flight before they close), block
   * hubs, the web server, and the blocks' schedule last (stopped first).
   */
  private components(): Component[] {
    return [
      { name: 'shared', stop: () => this.shared.close() },
      {
        name: 'store',
        stop: async () => {
          // A flush the disk refuses (full, read-only) leaves the samples in the journal; close anyway.
          await this.store.flush().catch((err) => this.log.error({ err: errorMessage(err) }, 'store flush at stop failed; the journal keeps the samples'));
          await this.store.close();
        },
      },
      { name: 'bus', after: ['store', 'shared'], stop: () => this.bus.drain() },
      {
        name: 'hubs',
        after: ['bus'],
        start: async () => { for (const hub of this.hubs.values()) await hub.start?.(); },
        stop: async () => {
          for (const hub of this.hubs.values()) await hub.stop?.();
          await this.runs.idle();
        },
      },
      {
        name: 'web',
        after: ['hubs'],
        start: async () => {
          if (this.options.web === false) return;
          this.web = new WebServer({ listen: this.config.node.listen, token: this.config.node.token, log: this.log, ops: this.ops, routes: this.routes });
          await this.web.start();
        },
        stop: () => this.web?.stop(),
      },
      {
        name: 'blocks',
        after: ['web'],
        start: () => {
          for (const b of this.blocks.values()) this.schedule(b);
          this.scheduler.start();
        },
        stop: async () => {
          this.runs.abortAll(stopReason);
          await this.scheduler.stop();
          await this.runs.idle();
          await this.blocks.closeAll();
        },
      },
    ];
  }

  /** start creates the data directory and starts the components in order. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    fs.mkdirSync(this.config.node.data, { recursive: true });
    await this.lifecycle.start();
    this.log.info(
      { node: this.config.node.name, blocks: this.blocks.size, listen: this.web?.url, data: this.config.node.data },
      'remon started',
    );
  }

  /** stop: no new runs; runs in flight are aborted; deliveries drained; everything flushed and closed. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopController.abort();
    await this.lifecycle.stop();
    this.log.info({ node: this.config.node.name }, 'remon stopped');
  }

  /** idle resolves once every delivery in flight (pipe steps, slow subscribers) has settled. */
  idle(): Promise<void> {
    return this.bus.drain();
  }

  /** addBlock adds a block while the node runs (e.g. a heartbeat created over HTTP). */
  addBlock(b: Config['blocks'][number], runtime = true): void {
    if (this.blocks.has(b.name)) throw createError('REMON_ERR_BLOCK_EXISTS', `a block is named "${b.name}" already`);
    const added = this.blocks.create(b, runtime);
    if (this.started && !this.stopping) this.schedule(added);
  }

  /** hub is the node-wide part of a block type (BlockType.hub), if it has one. */
  hub(type: string): BlockHub | undefined {
    return this.hubs.get(type);
  }

  private schedule(b: ActiveBlock, firstSpreadMs?: number, firstAfterMs?: number): void {
    if (!this.placement.runsHere(b.config)) return; // another node runs it (from:, a cluster lease)
    if (b.mode === 'interval') {
      this.scheduler.add(new BlockJob(b, this.runScheduled, this.startScheduled, firstSpreadMs, firstAfterMs));
    } else if (b.mode === 'once') {
      this.execute(b, 'once', 0).catch((err) => this.log.error({ block: b.config.name, err: errorMessage(err) }, 'block run failed outside its result'));
    }
  }

  /**
   * place starts the interval blocks a placement now gives this node, their first runs
   * within PLACED_FIRST_MS (they were another node's, which may have died; one that ran here
   * within its interval waits the rest of it first), and stops the ones it took away (a run
   * in flight finishes and is recorded). Blocks run once at start are not run again.
   */
  private place(): void {
    if (!this.started || this.stopping) return;
    for (const b of this.blocks.values()) {
      if (b.mode !== 'interval') continue;
      const here = this.placement.runsHere(b.config);
      const scheduled = this.scheduler.has(b.config.name);
      if (here && !scheduled) {
        // A block that ran here lately (a placement took it away and gave it back) waits out its interval.
        // A run in flight started just now, as far as this goes; scheduled runs' starts are in their results.
        const last = b.running ? this.clock.now() : Math.max(b.lastStart, b.state.lastRunStart());
        const wait = last === 0 ? 0 : Math.max(0, Math.min(b.config.everyMs, last + b.config.everyMs - this.clock.now()));
        this.schedule(b, PLACED_FIRST_MS, wait);
      } else if (!here && scheduled) {
        this.scheduler.remove(b.config.name);
      }
    }
  }

  /** runsHere tells whether this node runs the block now (`from:`, a cluster's lease). */
  runsHere(name: string): boolean {
    const b = this.blocks.get(name);
    return b !== undefined && this.placement.runsHere(b.config);
  }

  /** unschedule takes a block off the node (reload): no more runs; a run in flight finishes unseen. */
  private unschedule(b: ActiveBlock): Promise<void> {
    this.scheduler.remove(b.config.name);
    return this.blocks.remove(b);
  }

  /** url of the web server once started (undefined when web is off). */
  get url(): string | undefined {
    return this.web?.url;
  }

  /** runOnce runs every active block (not disabled, not passive, placed here) once, concurrently, and waits for their pipes. */
  async runOnce(): Promise<Result[]> {
    const active = [...this.blocks.values()].filter((b) => b.mode !== 'passive' && this.placement.runsHere(b.config));
    const results = await Promise.all(active.map((b) => this.execute(b, 'once', 0)));
    await this.idle();
    return results;
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
    return this.blocks.status();
  }

  blockStatus(name: string): BlockStatus | undefined {
    return this.blocks.get(name)?.state.snapshot();
  }

  schedulerStats(): SchedulerStats {
    return this.scheduler.stats();
  }

  busStats(): BusStats {
    return this.bus.stats();
  }

  /**
   * reload reads monitor.yaml again and applies it (one reload at a time): added blocks
   * start, removed ones stop, changed ones restart, unchanged ones keep their state and
   * schedule. A file with errors is refused (REMON_ERR_RELOAD_INVALID, with the same
   * FILE:LINE:COL messages as `remon check`) and the running config is kept.
   */
  reload(): Promise<ReloadReport> {
    const run = this.reloading.then(() => this.doReload());
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async doReload(): Promise<ReloadReport> {
    const load = this.options.loadConfig;
    if (!load) throw createError('REMON_ERR_UNAVAILABLE', 'this node was not started from a file; there is nothing to reload');
    if (this.stopController.signal.aborted) throw createError('REMON_ERR_UNAVAILABLE', 'the node is stopping');
    let next: LoadedConfig;
    try {
      next = await load();
    } catch (err) {
      const e = createError('REMON_ERR_RELOAD_INVALID', `reload refused; the running config is kept:\n${errorMessage(err)}`, err);
      const problems = (err as { problems?: Problem[] }).problems;
      if (problems) e.details = { problems: problems.map((p) => formatProblem(this.config.file, p)) };
      throw e;
    }
    const { report, config } = await applyReload(this.config, next.config, {
      blocks: this.blocks,
      sections: next.sections,
      create: (b) => {
        const added = this.blocks.create(b);
        if (this.started && !this.stopping) this.schedule(added);
      },
      remove: (b) => this.unschedule(b),
    });
    this.current = config;
    for (const hub of this.hubs.values()) hub.reload?.(config);
    for (const p of this.options.plugins ?? []) p.reload?.(config);
    this.log.info({ ...report, unchanged: report.unchanged }, 'config reloaded');
    return report;
  }

  /** execute runs a block once and records its result (runBlock never rejects). */
  private execute(b: ActiveBlock, trigger: Trigger, lagMs: number, input?: Result): Promise<Result> {
    b.running = true;
    b.lastStart = this.clock.now();
    const ran = runBlock({
      config: b.config,
      instance: b.instance,
      trigger,
      lagMs,
      input,
      stop: this.stopController.signal,
      runs: this.runs,
      shared: this.shared,
      log: this.log,
      now: this.now,
    });
    return ran.then(
      (result) => {
        b.running = false;
        this.handle(b, result);
        return result;
      },
      (err) => {
        b.running = false;
        throw err;
      },
    );
  }

  /** publishSamples publishes a block's samples without a result (BlockEnv.samples). */
  private publishSamples(b: ActiveBlock, fields: Record<string, number>, t: number): void {
    if (b.removed) return;
    const heartbeat = b.heartbeat;
    const samples: Sample[] = [];
    for (const field in fields) {
      const value = fields[field];
      if (field === 'up' || field === 'duration_ms' || !Number.isFinite(value)) continue;
      samples.push({ series: `${b.config.name}.${field}`, value, kind: 'gauge', t, heartbeat });
    }
    if (samples.length > 0) this.bus.publish({ samples });
  }

  /** handle records a result on its block and publishes it, with its samples, on the bus. */
  private handle(b: ActiveBlock, r: Result): void {
    if (b.removed) return;
    this.blocks.record(b, r);
    if (!r.ok) this.log.debug({ block: r.block, message: r.message }, 'block failed');
    this.bus.publish({ result: r, samples: resultSeries(r, b.heartbeat, b.series) });
  }
}
