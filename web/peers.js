/**
 * peers.js — the peers page (GET /peers): each node under `peers:` with its state (up or
 * down, since), the last error, and its blocks, SLAs and alerts, each labelled with the
 * node it is from. A peer that is down is a row that says so, never the page's error.
 */
'use strict';
const { safe, worstFirst } = require('./lib/dashboard');

/** MAX_ROWS: rows shown per list of one peer. */
const MAX_ROWS = 200;

module.exports = {
  async GET(_req, page) {
    const peers = await safe(page, 'peers.list', {}, []);
    const rows = peers.map((p) => ({
      ...p,
      blocks: [...p.blocks].sort(worstFirst).slice(0, MAX_ROWS).map((b) => ({ ...b, state: b.status })),
      slas: [...p.slas].sort(worstFirst).slice(0, MAX_ROWS),
      alerts: p.alerts.filter((a) => a.state !== 'resolved').sort(worstFirst).slice(0, MAX_ROWS),
      counts: `${p.blocks.length} blocks · ${p.slas.length} SLAs · ${p.alerts.filter((a) => a.state !== 'resolved').length} open alerts`,
    }));
    const up = rows.filter((p) => p.state === 'up').length;
    return { rows, up, down: rows.length - up, every: '10s' };
  },
};
