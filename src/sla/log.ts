import * as fs from 'node:fs';
import { DurableLog } from '../durable/log';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { claimDir, DirClaim } from '../util/dirlock';
import { MachineSnapshot } from './machine';

/**
 * SlaRecord is what the SLA log keeps of one SLA: its state machine, and for a slots SLA
 * the watermark, the last slot evaluated (every slot up to it was evaluated once).
 */
export interface SlaRecord {
  /** The SLA's name. */
  n: string;
  /** Watermark (epoch ms), slots SLAs only. */
  w?: number;
  m: MachineSnapshot;
}

/** SlaLogOptions: where, and when to compact. */
export interface SlaLogOptions {
  dir: string;
  log?: Logger;
  /** Snapshot the latest records once the segments hold more than this [8 MiB]. */
  compactBytes?: number;
}

/**
 * SlaLog is the SLAs' record in node.data (`<data>/sla`) on the durable log: a JSON record
 * per slot evaluated and per state change, written with appendSync, so it is in the kernel
 * (kill -9 safe) before the state change it records is handed out. Opening replays the
 * snapshot and the records after it and keeps the latest per SLA; once the segments grow
 * past compactBytes they are replaced by a snapshot of those (names `keep` still wants).
 */
export class SlaLog {
  private readonly latest = new Map<string, SlaRecord>();
  private readonly compactBytes: number;
  /** Records that could not be parsed (damage is cut or skipped by the durable log). */
  skipped = 0;

  private constructor(private readonly durable: DurableLog, private readonly claim: DirClaim, o: SlaLogOptions) {
    this.compactBytes = o.compactBytes ?? 8 * 2 ** 20;
  }

  /** open claims dir (REMON_ERR_DATA_IN_USE if another process has it) and reads the log. */
  static open(o: SlaLogOptions): SlaLog {
    try {
      fs.mkdirSync(o.dir, { recursive: true });
    } catch (err) {
      throw createError('REMON_ERR_SLA_LOG', `cannot use ${o.dir} for the SLA log: ${errorMessage(err)}`, err);
    }
    const claim = claimDir(o.dir, 'REMON_ERR_DATA_IN_USE', 'the SLA log');
    const records: SlaRecord[] = [];
    let skipped = 0;
    const take = (buf: Buffer): void => {
      try {
        const r = JSON.parse(buf.toString('utf8')) as SlaRecord;
        if (typeof r?.n === 'string' && r.m) records.push(r);
        else skipped++;
      } catch {
        skipped++;
      }
    };
    let durable: DurableLog;
    try {
      durable = DurableLog.open({ dir: o.dir, name: 'sla', what: 'the SLA log', log: o.log }, { snapshot: take, record: take });
    } catch (err) {
      claim.release();
      throw createError('REMON_ERR_SLA_LOG', errorMessage(err), err);
    }
    const log = new SlaLog(durable, claim, o);
    for (const r of records) log.latest.set(r.n, r);
    log.skipped = skipped + durable.opened.damaged;
    if (log.skipped > 0) o.log?.warn({ dir: o.dir, skipped: log.skipped }, 'SLA log: skipped unreadable records');
    return log;
  }

  /** get is the latest record of an SLA. */
  get(name: string): SlaRecord | undefined {
    return this.latest.get(name);
  }

  /** write appends a record; it is in the kernel when this returns. Throws REMON_ERR_SLA_LOG. */
  write(rec: SlaRecord, keep?: (name: string) => boolean): void {
    try {
      this.durable.appendSync(JSON.stringify(rec));
    } catch (err) {
      throw createError('REMON_ERR_SLA_LOG', `SLA log write failed: ${errorMessage(err)}`, err);
    }
    this.latest.set(rec.n, rec);
    let bytes = 0;
    for (const s of this.durable.segments) bytes += s.bytes;
    if (bytes > this.compactBytes) this.compact(keep);
  }

  /** compact replaces the segments with a snapshot of the latest records (of names keep wants). */
  compact(keep: (name: string) => boolean = () => true): void {
    for (const name of [...this.latest.keys()]) if (!keep(name)) this.latest.delete(name);
    try {
      this.durable.compactSync([...this.latest.values()].map((r) => JSON.stringify(r)));
    } catch (err) {
      throw createError('REMON_ERR_SLA_LOG', `SLA log compaction failed: ${errorMessage(err)}`, err);
    }
  }

  /** stats are the durable log's totals since open. */
  get stats(): DurableLog['stats'] {
    return this.durable.stats;
  }

  /** close closes the log and frees the directory. */
  close(): void {
    this.durable.closeSync();
    this.claim.release();
  }

  /** abandon stops as a crash would (tests play a node killed and restarted in one process). */
  abandon(): void {
    this.durable.abandon();
    this.claim.release();
  }
}
