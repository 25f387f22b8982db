/**
 * block.js — one block's page (GET /block/NAME): its series as graphs (fields of one unit
 * share a graph; a derived series is drawn with its inputs; an SLA's simple threshold is
 * drawn as a dashed line on the graph of its series), its last fields, error and raw
 * output, the SLAs over its series, and "run now".
 */
'use strict';
const { format, KEEPS_UNIT, primaryField, safe, thresholdsOf, unitOf, worstFirst } = require('./lib/dashboard');

const RANGES = ['1h', '1d', '1w', '1y'];
/** AXES: the y axis a unit's graph spans at least. */
const AXES = { up: { min: 0, max: 1 }, '%': { min: 0 } };
/** MAX_GRAPHS bounds the graphs of a page (a block with hundreds of fields shows the first). */
const MAX_GRAPHS = 12;

/** graphsOf groups a block's series (and the derived ones over them) into graphs, with the SLAs' thresholds. */
function graphsOf(block, seriesNames, derived, slas) {
  const prefix = `${block.name}.`;
  const derivedNames = new Set(derived.map((d) => d.name));
  const stored = seriesNames.filter((n) => n.startsWith(prefix) && !derivedNames.has(n)).map((n) => n.slice(prefix.length));
  const fields = [...new Set([...Object.keys(block.fields), ...stored])];
  // A block that never ran has no series yet; the ones every run makes are drawn as they come.
  if (fields.length === 0) fields.push(...(block.mode === 'passive' ? ['up'] : ['duration_ms', 'up']));
  const primary = primaryField(block.fields);
  fields.sort((a, b) => (a === primary ? -1 : b === primary ? 1 : 0) || (a === 'up') - (b === 'up') || (a === 'duration_ms') - (b === 'duration_ms'));
  const groups = new Map(); // unit → graph
  const graphOf = new Map(); // series → graph
  for (const f of fields) {
    const { unit, title } = unitOf(f);
    if (!groups.has(unit)) groups.set(unit, { title, unit, names: [], right: [], thresholds: [], ...AXES[unit] });
    const g = groups.get(unit);
    g.names.push(prefix + f);
    graphOf.set(prefix + f, g);
  }
  // Derived series over this block's series (or over derived ones already placed), in order.
  let placed = true;
  const shownDerived = [];
  while (placed) {
    placed = false;
    for (const d of derived) {
      if (graphOf.has(d.name)) continue;
      const input = d.inputs.find((i) => graphOf.has(i));
      if (!input && !d.name.startsWith(prefix)) continue;
      let g = input ? graphOf.get(input) : undefined;
      if (!g) {
        g = { title: d.name, unit: `=${d.name}`, names: [], right: [], thresholds: [] };
        groups.set(g.unit, g);
      }
      g.names.push(d.name);
      if (!KEEPS_UNIT.test(d.expr) && input) g.right.push(d.name);
      graphOf.set(d.name, g);
      shownDerived.push({ name: d.name, expr: d.expr, state: d.state, value: format(d.value), message: d.message || d.error || '' });
      placed = true;
    }
  }
  const related = [];
  for (const s of slas) {
    const lines = thresholdsOf(s.test).filter((t) => graphOf.has(t.series));
    const uses = lines.length > 0 || [...graphOf.keys()].some((n) => new RegExp(`(^|[^A-Za-z0-9_.:-])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_.:-])`).test(s.test));
    if (!uses) continue;
    related.push({ name: s.name, state: s.state, test: s.test, message: s.message });
    for (const t of lines) graphOf.get(t.series).thresholds.push({ value: t.value, label: `${s.name}: ${t.series} ${t.op} ${t.value}`, series: t.series });
  }
  return { graphs: [...groups.values()].slice(0, MAX_GRAPHS), derived: shownDerived, related: related.sort(worstFirst) };
}

module.exports = {
  async GET(req, page) {
    const name = String(req.path || '').replace(/^\/+/, '').split('/')[0];
    if (!name) return page.respond({ status: 302, headers: { location: '/' }, body: '' });
    // An unknown name is the operation's 404 (`no block is named "x"`), shown as the page's error.
    const block = await page.rpc('blocks.get', { name });
    const [seriesNames, derived, slas] = await Promise.all([
      safe(page, 'series.list', {}, []),
      safe(page, 'derive.list', {}, []),
      safe(page, 'slas.list', {}, []),
    ]);
    const { graphs, derived: shownDerived, related } = graphsOf(block, seriesNames, derived, slas);
    const range = RANGES.includes(req.query.range) ? req.query.range : '1h';
    return {
      title: block.name,
      // Not `block`: inside a layout's {% block %} that name is liquid's own (block.super).
      b: block,
      fields: Object.entries(block.fields).map(([k, v]) => ({ name: k, series: `${block.name}.${k}`, value: format(v) })),
      error: block.status === 'fail' ? block.lastError : '',
      output: block.output === undefined ? null : String(block.output),
      graphs: graphs.map((g) => ({ ...g, chart: g.names.join(','), rightNames: g.right.join(','), lines: g.thresholds })),
      derived: shownDerived,
      related,
      ranges: RANGES,
      range,
      run: { name: block.name },
      watch: { names: [block.name] },
    };
  },
};
