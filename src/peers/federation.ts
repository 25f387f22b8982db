import { createError, errorMessage, RemonError } from '../errors';
import type { Logger } from '../log';
import { RpcClient, RpcSession } from '../rpc/client';
import type { PeerConfig } from './section';

/** MAX_ITEMS: the most blocks, SLAs or alerts kept of one peer (more are cut, and counted). */
export const MAX_ITEMS = 5000;

/** PeerState: up (its last read answered), down (it did not), unknown (not read yet). */
export type PeerState = 'up' | 'down' | 'unknown';

/** Labelled is an item of a peer (a block, an SLA, an alert) with the node it is from. */
export type Labelled = Record<string, unknown> & { node: string };

/** PeerView is a peer as GET /api/peers shows it. */
export interface PeerView {
  name: string;
  url: string;
  state: PeerState;
  /** When the state began (ISO-8601). */
  since: string;
  /** The last read's time, and the error of the last failed one (kept after it is up again, with its time). */
  checkedAt: string | null;
  lastError: { message: string; code: string; at: string } | null;
  /** The peer's own node.name, as it said. */
  node: string | null;
  /** Its blocks, SLAs and alerts as of its last good read, each labelled with `node` (the peer's name). */
  blocks: Labelled[];
  slas: Labelled[];
  alerts: Labelled[];
  /** Items left out over MAX_ITEMS, and parts the peer does not have (an old node without alerts). */
  truncated: number;
  missing: string[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** PARTS are the methods read from each peer, one batch per read. */
const PARTS = ['blocks.list', 'slas.list', 'alerts.list'] as const;

/** Peer is one peer: its client, its view, its poll timer, and (when quorum needs it) a WebSocket session. */
class Peer {
  readonly client: RpcClient;
  view: PeerView;
  timer?: NodeJS.Timeout;
  polling = false;
  session?: RpcSession;

  constructor(readonly config: PeerConfig, now: number) {
    this.client = new RpcClient({ url: config.url, token: config.token, timeoutMs: config.timeoutMs });
    this.view = {
      name: config.name, url: config.url, state: 'unknown', since: iso(now), checkedAt: null, lastError: null, node: null,
      blocks: [], slas: [], alerts: [], truncated: 0, missing: [],
    };
  }
}

/**
 * Federation reads each peer of `peers:` every `every`: one JSON-RPC batch (node.info,
 * blocks.list, slas.list, alerts.list) over POST /rpc, bounded by the peer's timeout, one
 * read in flight per peer. It keeps a view per peer: up or down since when, the last error,
 * and the peer's blocks, SLAs and alerts labelled by node. A peer that cannot be read is
 * down (its last items are dropped, so nothing stale shows as current); an error is logged
 * once per down spell.
 */
export class Federation {
  private readonly peers = new Map<string, Peer>();
  private stopped = true;

  constructor(configs: readonly PeerConfig[], private readonly log: Logger, private readonly now: () => number = Date.now) {
    for (const c of configs) this.peers.set(c.name, new Peer(c, now()));
  }

  /** names of the peers, sorted. */
  get names(): string[] {
    return [...this.peers.keys()];
  }

  /** start reads every peer now, then every its `every`. */
  start(): void {
    this.stopped = false;
    for (const p of this.peers.values()) {
      void this.poll(p);
      p.timer = setInterval(() => void this.poll(p), p.config.everyMs);
      p.timer.unref();
    }
  }

  /** stop ends the reads and closes the WebSocket sessions. */
  stop(): void {
    this.stopped = true;
    for (const p of this.peers.values()) {
      if (p.timer) clearInterval(p.timer);
      p.session?.close();
      p.session = undefined;
    }
  }

  /** list: every peer's view. */
  list(): PeerView[] {
    return [...this.peers.values()].map((p) => p.view);
  }

  /** get: one peer's view; REMON_ERR_PEER_UNKNOWN for a name not under peers:. */
  get(name: string): PeerView {
    const p = this.peers.get(name);
    if (!p) throw createError('REMON_ERR_PEER_UNKNOWN', `no peer is named "${name}"${this.peers.size ? `; peers: ${this.names.join(', ')}` : ' (peers: is empty)'}`);
    return p.view;
  }

  /** session is the WebSocket session to a peer (opened on first use, reconnecting by itself); undefined for a name not under peers:. */
  session(name: string, onState?: (state: string) => void): RpcSession | undefined {
    const p = this.peers.get(name);
    if (!p || this.stopped) return undefined;
    p.session ??= p.client.session({ backoff: { minMs: 200, maxMs: Math.max(1000, p.config.everyMs) }, onState });
    return p.session;
  }

  /** poll reads one peer (skipped while its last read is in flight). */
  async poll(p: Peer): Promise<void> {
    if (p.polling || this.stopped) return;
    p.polling = true;
    try {
      const answers = await p.client.batch([{ method: 'node.info' }, ...PARTS.map((method) => ({ method }))]);
      if (this.stopped) return;
      const info = answers[0];
      if (!info.ok) throw info.error;
      const lists: Labelled[][] = [];
      const missing: string[] = [];
      let truncated = 0;
      PARTS.forEach((part, i) => {
        const a = answers[i + 1];
        if (!a.ok) {
          if (a.error.code !== 'REMON_ERR_OP_UNKNOWN' && a.error.code !== 'REMON_ERR_UNAVAILABLE') throw a.error;
          missing.push(part);
          lists.push([]);
          return;
        }
        const items = Array.isArray(a.result) ? a.result : [];
        truncated += Math.max(0, items.length - MAX_ITEMS);
        lists.push(items.slice(0, MAX_ITEMS).map((it) => ({ ...(typeof it === 'object' && it !== null ? it : { value: it }), node: p.config.name })));
      });
      const v = p.view;
      const now = this.now();
      if (v.state !== 'up') {
        if (v.state === 'down') this.log.info({ peer: p.config.name }, `peer ${p.config.name} is up again`);
        v.state = 'up';
        v.since = iso(now);
      }
      v.checkedAt = iso(now);
      v.node = String((info.result as { name?: unknown })?.name ?? '');
      [v.blocks, v.slas, v.alerts] = lists;
      v.truncated = truncated;
      v.missing = missing;
    } catch (err) {
      if (!this.stopped) this.down(p, err);
    } finally {
      p.polling = false;
    }
  }

  private down(p: Peer, err: unknown): void {
    const v = p.view;
    const now = this.now();
    const e = err as RemonError;
    v.lastError = { message: errorMessage(err), code: typeof e?.code === 'string' ? e.code : 'REMON_ERR_RPC_REMOTE', at: iso(now) };
    v.checkedAt = iso(now);
    if (v.state !== 'down') {
      this.log.warn({ peer: p.config.name, err: v.lastError.message }, `peer ${p.config.name} is down`);
      v.state = 'down';
      v.since = iso(now);
    }
    v.blocks = [];
    v.slas = [];
    v.alerts = [];
  }
}
