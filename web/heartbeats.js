/**
 * heartbeats.js — the heartbeats page (GET /heartbeats): each heartbeat's state, schedule,
 * last signal, next deadline, and the body of its last signal that had one.
 */
'use strict';
const { safe, worstFirst } = require('./lib/dashboard');

/** DETAILED: heartbeats whose last body is looked up (one heartbeats.get each). */
const DETAILED = 500;
/** BODY_SHOWN: characters of a body shown. */
const BODY_SHOWN = 2000;

module.exports = {
  async GET(_req, page) {
    const list = await safe(page, 'heartbeats.list', {}, []);
    // A heartbeat removed since the list has no details.
    const details = await Promise.all(list.slice(0, DETAILED).map((h) => safe(page, 'heartbeats.get', { name: h.name }, undefined, ['REMON_ERR_HEARTBEAT_UNKNOWN'])));
    const rows = list.map((h, i) => {
      const d = details[i];
      const withBody = d && d.signals.find((s) => s.body);
      const body = withBody ? String(withBody.body) : '';
      return {
        ...h,
        lastBody: body.length > BODY_SHOWN ? `${body.slice(0, BODY_SHOWN)}…` : body,
        lastBodyAt: withBody ? withBody.at : null,
        recent: d ? d.events.slice(0, 10) : [],
        differsText: (h.differs || []).map((x) => `${x.key}: ${x.runtime} (monitor.yaml: ${x.file})`).join(', '),
      };
    }).sort(worstFirst);
    const names = list.map((h) => h.name).filter((n) => /^[A-Za-z0-9_-]{1,200}$/.test(n));
    return {
      rows,
      watch: names.length > 0 ? { names: names.slice(0, 5000) } : null,
    };
  },
};
