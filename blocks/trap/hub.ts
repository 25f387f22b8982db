import type { Config } from '../../src/config/types';
import type { BlockHub, EmitOutput, HubEnv } from '../../src/engine/block';
import { createError, errorMessage } from '../../src/errors';
import { Trap } from './decode';
import { trapOps } from './ops';
import { ReceiverStats, TrapReceiver } from './receiver';
import { compileRule, insecureListen, matches, sentOutput, TrapOptions, TrapRule, trapOutput } from './rule';

/** Slot is one trap block: its compiled rule, its emit, and what it has seen. */
interface Slot {
  rule: TrapRule;
  emit: (out: EmitOutput) => void;
  /** The block's ok as the last trap left it (a trap matching neither alarm nor clear keeps it). */
  last: boolean;
  received: number;
  lastAt?: number;
  /** Why its receiver does not listen, when it does not. */
  problem?: string;
}

/** SentTrap is a trap sent over HTTP or RPC (PUT /trap, trap.send). */
export interface SentTrap {
  value: number;
  message?: string;
  ok?: boolean;
}

/** TrapBlockView is a trap block in /api/traps. */
export interface TrapBlockView {
  name: string;
  listen: string | null;
  received: number;
  lastAt: string | null;
  ok: boolean;
  problem: string | null;
}

/**
 * TrapHub is the trap type's node-wide part: one SNMP receiver per distinct `listen`
 * address, shared by the trap blocks that name it, handing each incoming trap to every
 * block whose rule takes it (its communities, agents and OIDs); and the sending of traps
 * over HTTP (`trap.send`, PUT /trap). Each trap a block takes is one result (emit), with
 * `received` = 1 and the fields its rule maps, at the trap's arrival time.
 */
export class TrapHub implements BlockHub {
  /** trap.send (PUT /trap) and traps.list (GET /api/traps). */
  readonly ops = trapOps;
  private readonly slots = new Map<string, Slot>();
  private readonly receivers = new Map<string, TrapReceiver>();
  private started = false;
  private stopped = false;
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly env: HubEnv) {}

  /** attach registers a trap block (its type's create); a reload attaches a changed block again. */
  attach(name: string, options: TrapOptions, emit: (out: EmitOutput) => void): void {
    const { rule } = compileRule(options); // valid: the config checked it
    this.slots.set(name, { rule, emit, last: true, received: 0 });
    if (this.started) void this.sync();
  }

  /** detach drops a block (its instance closed), unless a newer instance attached under its name. */
  detach(name: string, emit: (out: EmitOutput) => void): void {
    if (this.slots.get(name)?.emit !== emit) return;
    this.slots.delete(name);
    if (this.started) void this.sync();
  }

  async start(): Promise<void> {
    this.started = true;
    await this.sync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.syncing;
    await Promise.all([...this.receivers.values()].map((r) => r.close()));
    this.receivers.clear();
  }

  reload(_config: Config): void {
    void this.sync();
  }

  /** sync opens the receivers the blocks name and closes the others; one sync at a time. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.doSync()).catch((err) => this.env.log.error({ err: errorMessage(err) }, 'trap receivers not updated'));
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map<string, Slot[]>();
    for (const slot of this.slots.values()) {
      const l = slot.rule.listen;
      if (l) wanted.set(l.key, [...(wanted.get(l.key) ?? []), slot]);
    }
    for (const [key, r] of this.receivers) {
      if (wanted.has(key)) continue;
      this.receivers.delete(key);
      await r.close();
      this.env.log.info({ listen: key }, 'trap receiver closed');
    }
    for (const [key, slots] of wanted) {
      const communities = new Set(slots.flatMap((s) => [...s.rule.communities]));
      const open = this.receivers.get(key);
      if (open) {
        open.setCommunities(communities);
        for (const s of slots) s.problem = open.stats.state === 'listening' ? undefined : open.stats.error;
        continue;
      }
      const listen = slots[0].rule.listen!;
      let problem = insecureListen(listen, this.env.config.node.token);
      if (problem === undefined) {
        const r = new TrapReceiver(listen, (t) => this.deliver(key, t), () => this.env.clock.now());
        problem = await r.start(communities);
        if (problem === undefined) {
          this.receivers.set(key, r);
          this.env.log.info({ listen: `udp ${key}`, blocks: slots.length }, 'trap receiver listening');
        } else await r.close();
      }
      for (const s of slots) s.problem = problem;
      if (problem !== undefined) {
        this.env.log.error({ listen: key, err: problem }, 'trap receiver not listening');
        for (const s of slots) s.emit({ ok: false, message: problem });
      }
    }
  }

  /** deliver hands a trap to every block on its receiver that takes it; false when none does. */
  private deliver(key: string, t: Trap): boolean {
    let taken = false;
    for (const slot of this.slots.values()) {
      if (slot.rule.listen?.key !== key || !matches(slot.rule, t)) continue;
      this.take(slot, trapOutput(slot.rule, t, slot.last));
      taken = true;
    }
    return taken;
  }

  private take(slot: Slot, out: EmitOutput): void {
    slot.last = out.ok !== false;
    slot.received++;
    slot.lastAt = out.at;
    slot.emit(out);
  }

  /** send takes a trap sent over HTTP or RPC for the trap block `name`. */
  send(name: string, sent: SentTrap): { name: string; ok: boolean; received: number } {
    const slot = this.slots.get(name);
    if (!slot) {
      const why = this.env.hasBlock(name) ? `block "${name}" is not a trap block` : `no trap block is named "${name}"`;
      throw createError('REMON_ERR_TRAP_UNKNOWN', why);
    }
    if (!Number.isFinite(sent.value)) throw createError('REMON_ERR_TRAP_INVALID', `value must be a finite number; got ${sent.value}`);
    this.take(slot, sentOutput(slot.rule, sent, this.env.clock.now(), slot.last));
    return { name, ok: slot.last, received: slot.received };
  }

  /** list: the receivers and the trap blocks, for /api/traps. */
  list(): { receivers: ReceiverStats[]; blocks: TrapBlockView[] } {
    const blocks = [...this.slots].map(([name, s]) => ({
      name,
      listen: s.rule.listen ? `udp ${s.rule.listen.key}` : null,
      received: s.received,
      lastAt: s.lastAt === undefined ? null : new Date(s.lastAt).toISOString(),
      ok: s.last,
      problem: s.problem ?? null,
    }));
    return { receivers: [...this.receivers.values()].map((r) => ({ ...r.stats })), blocks: blocks.sort((a, b) => a.name.localeCompare(b.name)) };
  }
}
