import { checkName, checkQueueOptions, decode, DEFAULT_VISIBILITY_MS, encode, sleep } from './common';
import { KeyCache, Merge, Part, RedisConn, splitJson } from './redis-conn';
import { ConsumeOptions, Delivery, Json, QueueOptions, Queues } from './shared';

/** unwrap decodes a list item "<expiry>|<JSON>". */
function unwrap(item: unknown): Json | undefined {
  return item === null ? undefined : decode((item as string).slice((item as string).indexOf('|') + 1));
}

/**
 * splitPushed: remonQueuePushMany's reply is the length after each push, or (a queue
 * without groups or expiry) the length after all of them before trimming to maxLength.
 */
function splitPushed(reply: unknown, parts: readonly Part[], args: ReadonlyArray<string | number>): unknown[] {
  if (typeof reply !== 'number') return reply as unknown[];
  const maxLength = Number(args[0]);
  const before = reply - parts.length;
  return parts.map((_, i) => (maxLength > 0 ? Math.min(before + i + 1, maxLength) : before + i + 1));
}

/**
 * Merging (see RedisConn.submit): the pushes to a queue with the same bounds made in the
 * same tick are one RPUSH; the pops from one end, one LPOP/RPOP with a count.
 */
const PUSH: Merge = { tag: 'push 0 0', fixed: 2, split: splitPushed };
const POP_OLD: Merge = { tag: 'pop old', fixed: 1, sum: true, split: splitJson };
const POP_NEW: Merge = { tag: 'pop new', fixed: 1, sum: true, split: splitJson };
/** A popped message, or undefined when the queue had none left. */
const popped = (m: unknown): Json | undefined => m as Json | undefined;

/**
 * RedisQueues: a queue is a list (RPUSH, LPOP/RPOP, LRANGE: constant time at either end),
 * each item "<expiry>|<JSON>"; the pushes to a queue made in the same tick are one RPUSH,
 * the pops from one end one LPOP/RPOP with a count. Consumer groups read the queue's group
 * log, a stream that push appends to once the queue has a group: XAUTOCLAIM for
 * redelivery, XREADGROUP for new entries, XACK; entries every group is done with are
 * trimmed.
 */
export class RedisQueues implements Queues {
  /** The XAUTOCLAIM cursor of each queue/group, so a long pending list is walked, not rescanned. */
  private readonly cursors = new Map<string, string>();

  constructor(private readonly c: RedisConn) {}

  /** Per queue: [list, expiry marker] and [list, marker, group log]. */
  private readonly keyCache = new KeyCache((queue) => {
    const keys = [this.c.key('q:', queue), this.c.key('qx:', queue)];
    return { keys, withLog: [...keys, this.c.key('g:', queue)] };
  });

  /** keys: the list and its expiry marker. */
  private keys(queue: string): readonly string[] {
    return this.keyCache.get(queue).keys;
  }

  private log(queue: string): string {
    return this.keyCache.get(queue).withLog[2];
  }

  push(queue: string, message: Json, options: QueueOptions = {}): Promise<number> {
    let text: string;
    try {
      checkName('queue', queue);
      checkQueueOptions(options);
      text = `|${encode(message)}`;
    } catch (err) {
      return Promise.reject(err);
    }
    const maxLength = options.maxLength ?? 0;
    const maxAge = options.maxAgeMs !== undefined ? Math.ceil(options.maxAgeMs) : 0;
    const merge = maxLength === 0 && maxAge === 0 ? PUSH : { ...PUSH, tag: `push ${maxLength} ${maxAge}` };
    return this.c.submit('queue.push', 'remonQueuePushMany', this.keyCache.get(queue).withLog, [maxLength, maxAge, text], merge);
  }

  popOldest(queue: string): Promise<Json | undefined> {
    return this.c.submit('queue.popOldest', 'remonQueuePopMany', this.keys(queue), ['old', 1], POP_OLD, popped);
  }

  popNewest(queue: string): Promise<Json | undefined> {
    return this.c.submit('queue.popNewest', 'remonQueuePopMany', this.keys(queue), ['new', 1], POP_NEW, popped);
  }

  peek(queue: string, n = Infinity): Promise<Json[]> {
    return this.c.run('queue.peek', async () => {
      if (n <= 0) return [];
      const texts = (await this.c.op('remonQueuePeek', ...this.keys(queue), Number.isFinite(n) ? Math.floor(n) : -1)) as string[];
      return texts.map((t) => unwrap(t)!);
    });
  }

  length(queue: string): Promise<number> {
    return this.c.run('queue.length', async () => (await this.c.op('remonQueueLength', ...this.keys(queue))) as number);
  }

  all(queue: string): Promise<Json[]> {
    return this.peek(queue);
  }

  names(): Promise<string[]> {
    return this.c.run('queue.names', async () => {
      const names = await this.c.scanNames('q:');
      const lengths = await Promise.all(names.map((n) => this.c.op('remonQueueLength', ...this.keys(n)) as Promise<number>));
      return names.filter((_, i) => lengths[i] > 0);
    });
  }

  async consume(queue: string, group: string, consumer: string, options: ConsumeOptions = {}): Promise<Delivery[]> {
    checkName('queue', queue);
    checkName('group', group);
    checkName('consumer', consumer);
    const count = Math.max(1, Math.floor(options.count ?? 1));
    const visibilityMs = Math.max(0, Math.floor(options.visibilityMs ?? DEFAULT_VISIBILITY_MS));
    const deadline = Date.now() + Math.max(0, options.waitMs ?? 0);
    const cursorKey = `${queue}\0${group}`;
    for (let attempt = 0; ; attempt++) {
      const out = await this.c.run('queue.consume', async () => {
        const cursor = this.cursors.get(cursorKey) ?? '0-0';
        const r = (await this.c.op('remonQueueConsume', ...this.keys(queue), this.log(queue), group, consumer, count, visibilityMs, cursor)) as Array<string | number>;
        this.cursors.set(cursorKey, String(r[0]));
        const deliveries: Delivery[] = [];
        for (let i = 1; i + 2 < r.length; i += 3) {
          deliveries.push({ id: String(r[i]), message: decode(String(r[i + 1]))!, redelivered: r[i + 2] === 1 });
        }
        return deliveries;
      });
      const now = Date.now();
      if (out.length > 0 || now >= deadline) return out;
      // Poll: 5 ms, doubling to 100 ms, never past the deadline.
      await sleep(Math.max(1, Math.min(5 * 2 ** Math.min(attempt, 5), 100, deadline - now)));
    }
  }

  ack(queue: string, group: string, ids: string | readonly string[]): Promise<number> {
    return this.c.run('queue.ack', async () => {
      const list = typeof ids === 'string' ? [ids] : [...ids];
      if (list.length === 0) return 0;
      return (await this.c.op('remonQueueAck', this.log(queue), group, ...list)) as number;
    });
  }

  pending(queue: string, group: string): Promise<number> {
    return this.c.run('queue.pending', async () => {
      return Number(await this.c.op('remonQueuePending', this.log(queue), group));
    });
  }
}
