/**
 * alerts.js — the alerts page (GET /alerts): open alerts (firing and pending first, then
 * acknowledged) with ack and silence buttons, resolved ones with their history, and the
 * silences (active, coming, ended) with a button to end an API silence.
 */
'use strict';
const { safe, worstFirst } = require('./lib/dashboard');

/** RESOLVED_SHOWN: how many resolved alerts the page lists (newest first). */
const RESOLVED_SHOWN = 100;
/** SILENCE_FOR: the choices of the silence button. */
const SILENCE_FOR = ['1h', '4h', '1d', '1w'];

function viewOf(a) {
  return {
    ...a,
    value: a.value === null || a.value === undefined ? '' : String(a.value),
    labelText: Object.entries(a.labels || {}).map(([k, v]) => `${k}=${v}`).join(' '),
    history: [...(a.history || [])].reverse(),
    // Who: the browser does not know the person; the history says it came from the dashboard.
    ack: { id: a.id, by: 'dashboard' },
    silence: { match: { sla: a.sla }, by: 'dashboard' },
  };
}

module.exports = {
  async GET(_req, page) {
    const [alerts, silences] = await Promise.all([
      safe(page, 'alerts.list', { limit: 1000 }, []),
      safe(page, 'silences.list', {}, []),
    ]);
    const open = alerts.filter((a) => a.state !== 'resolved').sort(worstFirst).map(viewOf);
    const resolved = alerts.filter((a) => a.state === 'resolved').slice(0, RESOLVED_SHOWN).map(viewOf);
    const counts = { firing: 0, pending: 0, acknowledged: 0 };
    for (const a of open) counts[a.state] = (counts[a.state] || 0) + 1;
    return {
      open,
      resolved,
      resolvedTotal: alerts.length - open.length,
      counts,
      silences: silences.map((s) => ({ ...s, expire: { id: s.id }, canExpire: s.source === 'api' && !s.expiredAt })),
      silenceFor: SILENCE_FOR,
      events: { kinds: ['alert.state'] },
    };
  },
};
