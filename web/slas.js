/**
 * slas.js — the SLAs page (GET /slas): each SLA's state and since, the values of its last
 * test, its settings, the error budget of an objective, and a line of `sla.NAME.ok`.
 */
'use strict';
const { format, safe, worstFirst } = require('./lib/dashboard');

module.exports = {
  async GET(_req, page) {
    const slas = await safe(page, 'slas.list', {}, []);
    const rows = [...slas].sort(worstFirst).map((s) => ({
      ...s,
      labelText: Object.entries(s.labels || {}).map(([k, v]) => `${k}=${v}`).join(' '),
      budget: s.objective && s.objective.budgetRemaining !== null ? `${format(s.objective.budgetRemaining * 100)}%` : '',
      target: s.objective ? `${format(s.objective.target * 100)}% over ${s.objective.window}` : '',
      okSeries: `sla.${s.name}.ok`,
      duringText: s.during ? `${s.during.cron} (${s.during.tz})` : '',
    }));
    const counts = {};
    for (const s of rows) counts[s.state] = (counts[s.state] || 0) + 1;
    return { rows, counts, events: { kinds: ['sla.state'] } };
  },
};
