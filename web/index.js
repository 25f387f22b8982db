/**
 * index.js — the overview (GET /): every block as a row (status, the value of the field that
 * stands for it, last run, last error), the SLAs and the alerts that need someone at the top.
 * The table is rendered here, on the server, whatever the number of blocks; the browser
 * fetches sparklines only for the rows it shows (remon-charts.js) and keeps rows current
 * from the live `blocks` topic (remon.js, data-remon-blocks).
 */
'use strict';
const { format, primaryField, safe, worstFirst } = require('./lib/dashboard');

/** rowOf is a block as a row of the table. */
function rowOf(b) {
  const field = primaryField(b.fields);
  const status = b.status;
  const error = status === 'fail' ? b.lastError : '';
  return {
    name: b.name,
    type: b.type,
    status,
    field,
    value: field ? format(b.fields[field]) : '',
    spark: field ? `${b.name}.${field}` : '',
    lastRun: b.lastRun || '',
    error,
    search: `${b.name} type:${b.type} status:${status} ${b.mode === 'on-demand' ? 'on-demand ' : ''}${error}`,
  };
}

module.exports = {
  async GET(req, page) {
    // The SLAs and alerts at the top are re-rendered on their events without the rows.
    const topOnly = req.query._region === 'attention';
    const [blocks, slas, alerts] = await Promise.all([
      topOnly ? [] : page.rpc('blocks.list'),
      safe(page, 'slas.list', {}, []),
      safe(page, 'alerts.list', { state: 'active', limit: 50 }, []),
    ]);
    const rows = blocks.map(rowOf);
    const counts = { ok: 0, fail: 0, unknown: 0 };
    for (const r of rows) counts[r.status] = (counts[r.status] || 0) + 1;
    const q = typeof req.query.q === 'string' ? req.query.q : '';
    return {
      rows,
      counts,
      total: rows.length,
      q,
      sla_list: [...slas].sort(worstFirst).map((s) => ({ name: s.name, state: s.state, message: s.message })),
      slas_failing: slas.filter((s) => s.state === 'firing' || s.state === 'pending').length,
      open_alerts: alerts.map((a) => ({
        id: a.id, sla: a.sla, state: a.state, severity: a.severity, message: a.message, since: a.since,
        ack: { id: a.id, by: 'dashboard' },
      })),
      events: { kinds: ['sla.state', 'alert.state'] },
    };
  },
};
