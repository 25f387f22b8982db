// The public status page (/status): the SLAs of web.status.slas (all when unset), their
// state, uptime over 24 h / 7 d / 30 d and incidents. No token is needed: it only reads.
'use strict';

const STATES = {
  ok: { label: 'Operational', tone: 'ok' },
  pending: { label: 'Degraded', tone: 'warn' },
  firing: { label: 'Outage', tone: 'bad' },
  unknown: { label: 'No data', tone: 'none' },
  inactive: { label: 'Not monitored now', tone: 'none' },
};

/** percent words an uptime share: 0.99951 → "99.95%", null → "—". */
function percent(v) {
  if (v === null || v === undefined) return '—';
  const p = v * 100;
  return `${p >= 99.995 && p < 100 ? '99.99' : p.toFixed(p === 100 || p === 0 ? 0 : 2)}%`;
}

/** duration words seconds: 3725 → "1h 2m". */
function duration(s) {
  if (s === null || s === undefined) return '';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

module.exports = {
  async GET(req, page) {
    const s = await page.rpc('status.summary');
    const slas = s.slas.map((x) => ({
      ...x,
      label: (STATES[x.state] || STATES.unknown).label,
      tone: (STATES[x.state] || STATES.unknown).tone,
      up24h: percent(x.uptime['24h']),
      up7d: percent(x.uptime['7d']),
      up30d: percent(x.uptime['30d']),
      incidents: x.incidents.map((i) => ({ ...i, sla: x.name, took: duration(i.duration_s) })),
    }));
    const worst = slas.some((x) => x.tone === 'bad') ? 'bad' : slas.some((x) => x.tone === 'warn') ? 'warn' : 'ok';
    const headline = { ok: 'All systems operational', warn: 'Some systems are degraded', bad: 'Some systems have an outage' }[worst];
    const incidents = slas.flatMap((x) => x.incidents).sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1)).slice(0, 50);
    return { title: s.title, generatedAt: s.generatedAt, slas, worst, headline: slas.length ? headline : 'No SLAs are configured', incidents };
  },
};
