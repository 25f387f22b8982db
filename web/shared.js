/**
 * shared.js — the shared state page (GET /shared): buckets and their keys with values
 * (?bucket=NAME), a search over keys and values (?search=REGEX), counters, the locks held
 * and the queues with their newest messages (?queue=NAME).
 */
'use strict';
const { safe } = require('./lib/dashboard');

/** KEYS_SHOWN: entries of a bucket (or of a search) shown. */
const KEYS_SHOWN = 500;
/** MESSAGES_SHOWN: newest messages of a queue shown. */
const MESSAGES_SHOWN = 50;
/** VALUE_SHOWN: characters of a value shown. */
const VALUE_SHOWN = 1000;

const one = (v) => (Array.isArray(v) ? v[0] : v);
const text = (v) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > VALUE_SHOWN ? `${s.slice(0, VALUE_SHOWN)}…` : s;
};
const entryOf = (e) => ({ bucket: e.bucket, key: e.key, value: text(e.value), del: { bucket: e.bucket, key: e.key } });

module.exports = {
  async GET(req, page) {
    const bucket = one(req.query.bucket) || '';
    const queue = one(req.query.queue) || '';
    const search = one(req.query.search) || '';
    const [info, buckets, counters, locks, queueNames] = await Promise.all([
      safe(page, 'shared.info', {}, null),
      safe(page, 'state.buckets', {}, []),
      safe(page, 'counter.all', {}, {}),
      safe(page, 'lock.list', {}, []),
      safe(page, 'queue.names', {}, []),
    ]);
    const queues = await Promise.all(queueNames.map(async (q) => ({ name: q, length: (await page.rpc('queue.length', { queue: q })).length })));
    let entries = [];
    let problem = '';
    if (bucket || search) {
      try {
        entries = (await page.rpc('state.search', { pattern: search || '.', ...(bucket && { bucket }), limit: KEYS_SHOWN })).map(entryOf);
      } catch (err) {
        problem = err.message;
      }
    }
    let messages = [];
    if (queue) {
      try {
        messages = (await page.rpc('queue.peek', { queue, n: MESSAGES_SHOWN })).map(text).reverse();
      } catch (err) {
        problem = err.message;
      }
    }
    return {
      info,
      buckets,
      bucket,
      search,
      entries,
      entriesCapped: entries.length >= KEYS_SHOWN,
      counters: Object.entries(counters).map(([name, value]) => ({ name, value })),
      locks: locks.map((l) => ({ ...l, expires: new Date(l.expiresAt).toISOString() })),
      queues,
      queue,
      messages,
      problem,
      watch: bucket ? { bucket } : null,
    };
  },
};
