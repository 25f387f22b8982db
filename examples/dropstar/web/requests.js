'use strict';
// The Requests tab. The requester block increments the shared counter "requests",
// pausing the delay kept in shared state (dropstar/delay_ms) between increments; the
// slider sets that delay (over RPC: state.set), so a reload shows where it was left. The
// stop button takes the shared lock "poller" (the block makes no request while it is
// held); its grant is kept in shared state so "start" can give it back from any browser.
const BUCKET = 'dropstar';
const LOCK = 'poller';
const HOUR = 3600 * 1000;

module.exports = {
  async GET(_req, page) {
    const delay = await page.shared.state.get(BUCKET, 'delay_ms', 200);
    const stopped = await page.shared.locks.isLocked(LOCK);
    const total = await page.shared.counters.get('requests');
    return { delay, stopped, total };
  },
  rpc: {
    'requests.total': {
      summary: 'the shared counter "requests" (a number)',
      params: { type: 'object', additionalProperties: false, properties: {} },
      write: false,
      handler: (_params, page) => page.shared.counters.get('requests'),
    },
    'poller.stop': {
      summary: 'stop the requester: take the lock "poller" (for an hour at most)',
      params: { type: 'object', additionalProperties: false, properties: {} },
      write: true,
      async handler(_params, page) {
        const handle = await page.shared.locks.tryAcquire(LOCK, { ttlMs: HOUR });
        if (handle) await page.shared.state.set(BUCKET, 'poller_lock', { ...handle });
        return { stopped: true, taken: handle !== undefined };
      },
    },
    'poller.start': {
      summary: 'let the requester run again: release the lock "poller"',
      params: { type: 'object', additionalProperties: false, properties: {} },
      write: true,
      async handler(_params, page) {
        const handle = await page.shared.state.get(BUCKET, 'poller_lock');
        if (handle) {
          await page.shared.locks.release(handle).catch(() => undefined); // expired or taken over: nothing to give back
          await page.shared.state.delete(BUCKET, 'poller_lock');
        }
        return { stopped: await page.shared.locks.isLocked(LOCK) };
      },
    },
  },
};
