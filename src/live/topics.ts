import { createError } from '../errors';

/**
 * The live topics a WebSocket client subscribes to with `live.subscribe {topic, ...}`, and
 * the checks of their params (every problem worded for the client, REMON_ERR_OP_PARAMS).
 */

/** TOPICS: what `live.subscribe` takes. */
export const TOPICS = ['series', 'blocks', 'events', 'state'] as const;
export type Topic = (typeof TOPICS)[number];

/** TopicParams is a checked `live.subscribe` params object. */
export type TopicParams =
  | { topic: 'series'; names: string[] }
  | { topic: 'blocks'; names?: string[] }
  | { topic: 'events'; kinds?: string[] }
  | { topic: 'state'; bucket: string; key?: string };

/** MAX_NAMES: the most series or block names one connection subscribes to, over all its subscriptions. */
export const MAX_NAMES = 5000;

const SERIES = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/;
const BLOCK = /^[A-Za-z0-9_-]{1,200}$/;
const KIND = /^[a-z][a-z0-9]*(?:\.[a-z][a-zA-Z0-9]*)*$/;

const allowed: Record<Topic, string[]> = {
  series: ['names'],
  blocks: ['names'],
  events: ['kinds'],
  state: ['bucket', 'key'],
};

const bad = (why: string): Error => createError('REMON_ERR_OP_PARAMS', `live.subscribe: ${why}`);

/** names checks a list of names against a pattern. */
function names(v: unknown, what: string, field: string, pattern: RegExp, max: number): string[] {
  if (!Array.isArray(v) || v.length === 0) throw bad(`${field} must be a non-empty list of ${what} names`);
  if (v.length > max) throw bad(`${field} has ${v.length} names; at most ${max}`);
  v.forEach((n, i) => {
    if (typeof n !== 'string' || !pattern.test(n)) throw bad(`${field}[${i}] is not a ${what} name: ${JSON.stringify(n)?.slice(0, 100)}`);
  });
  return [...new Set(v as string[])];
}

/** checkTopic checks `live.subscribe` params: a known topic and its keys only. */
export function checkTopic(p: Record<string, unknown>): TopicParams {
  const topic = p.topic;
  if (typeof topic !== 'string' || !(TOPICS as readonly string[]).includes(topic)) {
    throw bad(`topic must be one of ${TOPICS.join(', ')}; got ${JSON.stringify(topic ?? null)?.slice(0, 50)}`);
  }
  const t = topic as Topic;
  for (const k of Object.keys(p)) {
    if (k !== 'topic' && !allowed[t].includes(k)) throw bad(`the ${t} topic takes ${allowed[t].map((a) => `"${a}"`).join(' and ')}, not "${k.slice(0, 50)}"`);
  }
  switch (t) {
    case 'series':
      return { topic: t, names: names(p.names, 'series', 'names', SERIES, MAX_NAMES) };
    case 'blocks':
      return p.names === undefined ? { topic: t } : { topic: t, names: names(p.names, 'block', 'names', BLOCK, MAX_NAMES) };
    case 'events':
      return p.kinds === undefined ? { topic: t } : { topic: t, kinds: names(p.kinds, 'event kind (area.what)', 'kinds', KIND, 100) };
    case 'state': {
      if (typeof p.bucket !== 'string' || p.bucket === '' || p.bucket.length > 200) throw bad('bucket must be a bucket name (1-200 characters)');
      if (p.key !== undefined && (typeof p.key !== 'string' || p.key === '' || p.key.length > 1000)) throw bad('key must be a key (1-1000 characters) when given');
      return { topic: t, bucket: p.bucket, ...(p.key !== undefined && { key: p.key as string }) };
    }
  }
}

/** nameCount is how many names a subscription holds against MAX_NAMES. */
export function nameCount(p: TopicParams): number {
  return p.topic === 'series' || p.topic === 'blocks' ? p.names?.length ?? 0 : 0;
}
