// SVG badges of the status page's SLAs, of the shields kind: /badge/<sla>.svg shows the
// SLA's state, /badge/<sla>.svg?uptime=24h|7d|30d its uptime. An SLA the status page does
// not show answers a 404 badge. No token is needed.
'use strict';

const COLORS = { ok: '#2da44e', pending: '#bf8700', firing: '#cf222e', unknown: '#8c959f', inactive: '#8c959f' };
const WORDS = { ok: 'passing', pending: 'degraded', firing: 'failing', unknown: 'no data', inactive: 'inactive' };
const WINDOWS = ['24h', '7d', '30d'];

function xml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** width guesses the rendered width of text in 11px Verdana (shields' font). */
function width(text) {
  let w = 0;
  for (const c of String(text)) w += /[ il.,:;|!']/.test(c) ? 3.5 : /[mwMW@%]/.test(c) ? 10 : /[A-Z0-9]/.test(c) ? 7.5 : 6.5;
  return Math.round(w + 10);
}

/** svg draws a two-part badge: label on grey, value on color. */
function svg(label, value, color) {
  const lw = width(label);
  const vw = width(value);
  const w = lw + vw;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${xml(label)}: ${xml(value)}">`
    + `<title>${xml(label)}: ${xml(value)}</title>`
    + `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`
    + `<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>`
    + `<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${vw}" height="20" fill="${color}"/><rect width="${w}" height="20" fill="url(#s)"/></g>`
    + `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`
    + `<text x="${lw / 2}" y="14">${xml(label)}</text><text x="${lw + vw / 2}" y="14">${xml(value)}</text></g></svg>`;
}

/** uptimeColor: green from 99.9 %, yellow-green from 99 %, orange from 95 %, red below. */
function uptimeColor(v) {
  if (v === null) return COLORS.unknown;
  return v >= 0.999 ? '#2da44e' : v >= 0.99 ? '#8fbf2f' : v >= 0.95 ? '#d4a72c' : '#cf222e';
}

function percent(v) {
  if (v === null) return 'no data';
  const p = v * 100;
  return `${p === 100 ? '100' : p >= 99.995 ? '99.99' : p.toFixed(2)}%`;
}

function answer(page, status, label, value, color) {
  return page.respond({ status, type: 'image/svg+xml', body: svg(label, value, color), headers: { 'cache-control': 'no-cache' } });
}

module.exports = {
  async GET(req, page) {
    const m = /^\/([A-Za-z0-9_-]+)\.svg$/.exec(req.path);
    if (!m) return answer(page, 404, 'badge', 'not found', COLORS.unknown);
    const name = m[1];
    const win = req.query.uptime;
    if (win !== undefined && !WINDOWS.includes(win)) return answer(page, 400, name, 'uptime=24h|7d|30d', COLORS.unknown);
    let s;
    try {
      s = await page.rpc('status.sla', { name });
    } catch (err) {
      if (err.code === 'REMON_ERR_SLA_UNKNOWN') return answer(page, 404, name, 'unknown SLA', COLORS.unknown);
      throw err;
    }
    if (win !== undefined) {
      const v = s.uptime[win];
      return answer(page, 200, `${name} ${win}`, percent(v), uptimeColor(v));
    }
    return answer(page, 200, name, WORDS[s.state] || s.state, COLORS[s.state] || COLORS.unknown);
  },
};
