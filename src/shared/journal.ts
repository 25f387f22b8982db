/**
 * Journal keeps the memory backend's persistent buckets under `<node.data>/shared/`:
 *
 *   state.json          snapshot: {"version":1,"gen":G,"buckets":{"b":{"k":value}}}
 *   state.G.journal     every change since the snapshot, one JSON array a line:
 *                       ["s",bucket,key,value] or ["d",bucket,key]
 *   LOCK                the pid of the process that has the directory open
 *
 * A change is written to the journal (one write(2), before the in-memory change and before
 * the caller's promise resolves), so a process killed with SIGKILL loses nothing it had
 * acknowledged: the bytes are in the kernel. (A machine crash can lose what the kernel had
 * not yet written out; compaction fsyncs.) When the journal outgrows the snapshot it is
 * compacted: a new journal G+1 is started, the snapshot for G+1 is written to a temporary
 * file, fsynced and renamed over state.json, and journal G is removed. A crash anywhere in
 * between leaves a snapshot and the journals at or after its generation, which load
 * replays in order. A torn last line (a crash mid-write) is dropped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { claimDir, DirClaim } from '../util/dirlock';

export type BucketData = Map<string, Map<string, string>>;

const JOURNAL = /^state\.(\d+)\.journal$/;
const MIN_COMPACT_BYTES = 1 << 20;

export class Journal {
  private fd: number;
  private gen: number;
  private bytes = 0;
  private snapshotBytes = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly claim: DirClaim,
    private readonly data: BucketData,
    private readonly persistent: ReadonlySet<string>,
    private readonly log: Logger | undefined,
    gen: number,
  ) {
    this.gen = gen;
    this.fd = -1;
  }

  /**
   * open locks `dir`, loads the snapshot and replays the journals into `data` (persistent
   * buckets only), writes a fresh snapshot, and returns the journal to append to.
   */
  static open(dir: string, data: BucketData, persistent: ReadonlySet<string>, log?: Logger): Journal {
    const abs = path.resolve(dir);
    try {
      fs.mkdirSync(abs, { recursive: true });
    } catch (err) {
      throw createError('REMON_ERR_SHARED_BACKEND', `cannot create ${abs}: ${errorMessage(err)}`, err);
    }
    const claim = claimDir(abs, 'REMON_ERR_SHARED_BACKEND', 'shared state');
    try {
      const gen = load(abs, data, persistent, log);
      const j = new Journal(abs, claim, data, persistent, log, gen);
      j.compact();
      return j;
    } catch (err) {
      claim.release();
      if ((err as { code?: string }).code?.startsWith('REMON_ERR_')) throw err;
      throw createError('REMON_ERR_SHARED_BACKEND', `cannot load shared state from ${abs}: ${errorMessage(err)}`, err);
    }
  }

  /** set records a change of a persistent bucket; it has reached the kernel when it returns. */
  set(bucket: string, key: string, text: string): void {
    this.append(`["s",${JSON.stringify(bucket)},${JSON.stringify(key)},${text}]\n`);
  }

  delete(bucket: string, key: string): void {
    this.append(`["d",${JSON.stringify(bucket)},${JSON.stringify(key)}]\n`);
  }

  /** close fsyncs and closes the journal and unlocks the directory. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
    } finally {
      this.claim.release();
    }
  }

  private append(line: string): void {
    if (this.closed) throw createError('REMON_ERR_SHARED_BACKEND', 'the memory shared backend is closed');
    const buf = Buffer.from(line);
    try {
      let off = 0;
      while (off < buf.length) off += fs.writeSync(this.fd, buf, off);
    } catch (err) {
      throw createError('REMON_ERR_SHARED_BACKEND', `cannot write the shared state journal in ${this.dir}: ${errorMessage(err)}`, err);
    }
    this.bytes += buf.length;
    // Data is applied after the write, so the snapshot below would miss this change; the
    // caller compacts through maybeCompact after applying it.
  }

  /** maybeCompact rewrites the snapshot when the journal has grown past it. */
  maybeCompact(): void {
    if (this.bytes > Math.max(MIN_COMPACT_BYTES, 2 * this.snapshotBytes)) this.compact();
  }

  private compact(): void {
    const next = this.gen + 1;
    const nextFile = path.join(this.dir, `state.${next}.journal`);
    const fd = fs.openSync(nextFile, 'w');
    const text = snapshotText(next, this.data, this.persistent);
    const tmp = path.join(this.dir, 'state.json.tmp');
    const tfd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(tfd, text);
      fs.fsyncSync(tfd);
    } finally {
      fs.closeSync(tfd);
    }
    fs.renameSync(tmp, path.join(this.dir, 'state.json'));
    fsyncDir(this.dir);
    if (this.fd >= 0) fs.closeSync(this.fd);
    for (const f of fs.readdirSync(this.dir)) {
      const m = JOURNAL.exec(f);
      if (m && Number(m[1]) < next) fs.rmSync(path.join(this.dir, f), { force: true });
    }
    this.fd = fd;
    this.gen = next;
    this.bytes = 0;
    this.snapshotBytes = text.length;
    this.log?.debug({ dir: this.dir, gen: next, bytes: text.length }, 'shared state snapshot written');
  }
}

function snapshotText(gen: number, data: BucketData, persistent: ReadonlySet<string>): string {
  const buckets: string[] = [];
  for (const [bucket, keys] of data) {
    if (!persistent.has(bucket) || keys.size === 0) continue;
    const entries: string[] = [];
    for (const [k, v] of keys) entries.push(`${JSON.stringify(k)}:${v}`);
    buckets.push(`${JSON.stringify(bucket)}:{${entries.join(',')}}`);
  }
  return `{"version":1,"gen":${gen},"buckets":{${buckets.join(',\n')}}}\n`;
}

/** load fills data from state.json and the journals after it; returns the newest generation. */
function load(dir: string, data: BucketData, persistent: ReadonlySet<string>, log?: Logger): number {
  let gen = 0;
  const dropped = new Set<string>();
  const put = (bucket: string, key: string, value: unknown): void => {
    if (!persistent.has(bucket)) {
      dropped.add(bucket);
      return;
    }
    let b = data.get(bucket);
    if (!b) data.set(bucket, (b = new Map()));
    b.set(key, JSON.stringify(value));
  };
  const snapFile = path.join(dir, 'state.json');
  if (fs.existsSync(snapFile)) {
    const snap = JSON.parse(fs.readFileSync(snapFile, 'utf8')) as { version: number; gen: number; buckets: Record<string, Record<string, unknown>> };
    if (snap.version !== 1) throw createError('REMON_ERR_SHARED_BACKEND', `${snapFile}: unknown snapshot version ${snap.version}`);
    gen = snap.gen;
    for (const [bucket, keys] of Object.entries(snap.buckets)) for (const [k, v] of Object.entries(keys)) put(bucket, k, v);
  }
  const journals = fs.readdirSync(dir)
    .map((f) => ({ f, m: JOURNAL.exec(f) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ file: path.join(dir, x.f), gen: Number(x.m![1]) }))
    .sort((a, b) => a.gen - b.gen);
  for (const j of journals) {
    if (j.gen < gen) continue;
    gen = j.gen;
    const text = fs.readFileSync(j.file, 'utf8');
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      let op: unknown[];
      try {
        op = JSON.parse(line) as unknown[];
      } catch {
        // Only the very end can be torn by a crash; anything else is damage worth a word.
        if (i < lines.length - 1) log?.warn({ file: j.file, line: i + 1 }, 'shared state journal: unreadable line skipped');
        return;
      }
      if (op[0] === 's') put(op[1] as string, op[2] as string, op[3]);
      else if (op[0] === 'd') {
        const b = data.get(op[1] as string);
        b?.delete(op[2] as string);
        if (b?.size === 0) data.delete(op[1] as string);
      }
    });
  }
  for (const bucket of dropped) log?.warn({ bucket }, 'shared state: bucket is no longer persistent; its saved keys are dropped');
  return gen;
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
