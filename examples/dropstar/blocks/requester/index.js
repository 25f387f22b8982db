'use strict';
// requester: the dropSTAR demo's poller. Each run (every 1s) it makes "requests" — it
// increments a shared counter — pausing between them for the delay the page's slider keeps
// in shared state, until the run's second is over. While someone holds the stop lock it
// makes none. Its series: requester.total (the counter, stored as a COUNTER: a graph of it
// is requests per second), requester.made (requests this run) and requester.delay_ms.

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

module.exports = {
  type: 'requester',
  description: 'increments a shared counter, pausing a delay kept in shared state; stopped while a lock is held',
  schema: {
    properties: {
      counter: { type: 'string', description: 'the shared counter to increment (default "requests")' },
      bucket: { type: 'string', description: 'the shared-state bucket holding the delay (default "dropstar")' },
      delay_key: { type: 'string', description: 'the key of the delay in ms in that bucket (default "delay_ms")' },
      lock: { type: 'string', description: 'while this lock is held no request is made (default "poller")' },
      default_delay_ms: { type: 'integer', minimum: 10, maximum: 60000, description: 'the delay when none is set (default 200)' },
      window_ms: { type: 'integer', minimum: 100, maximum: 60000, description: 'how long one run makes requests (default 900)' },
    },
  },
  create(o) {
    const counter = o.counter || 'requests';
    const bucket = o.bucket || 'dropstar';
    const key = o.delay_key || 'delay_ms';
    const lock = o.lock || 'poller';
    const window = o.window_ms || 900;
    return {
      async run(ctx) {
        const { shared, signal } = ctx;
        const start = Date.now();
        let made = 0;
        let delay = Number(await shared.state.get(bucket, key, o.default_delay_ms || 200));
        if (!Number.isFinite(delay) || delay < 10) delay = 10;
        const stopped = await shared.locks.isLocked(lock);
        if (!stopped) {
          while (!signal.aborted && Date.now() - start < window) {
            await shared.counters.incr(counter);
            made++;
            await sleep(delay, signal);
          }
        }
        const total = await shared.counters.get(counter);
        return {
          ok: true,
          fields: { total, made, delay_ms: delay, stopped: stopped ? 1 : 0 },
          kinds: { total: 'counter' },
          message: stopped ? `stopped: the lock "${lock}" is held` : `${made} requests, ${delay} ms apart`,
        };
      },
    };
  },
};
