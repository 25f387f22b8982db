/**
 * dashboard.js — helpers the built-in pages share (web/lib/ is neither a page nor served):
 * how a value is shown, which field stands for a block, how series are grouped into graphs,
 * and the thresholds an SLA test draws.
 */
'use strict';

/** format renders a value as the browser does when it updates it live: the client script's own function. */
const { format } = require('../static/remon.js');

/** RUN_FIELDS are the fields every run has; a block's own fields say more. */
const RUN_FIELDS = new Set(['up', 'duration_ms']);

/** primaryField is the field that stands for a block in a list: its first own field, else duration_ms, else up. */
function primaryField(fields) {
  const keys = Object.keys(fields || {});
  return keys.find((k) => !RUN_FIELDS.has(k)) || (keys.includes('duration_ms') ? 'duration_ms' : keys.includes('up') ? 'up' : '');
}

/** UNITS: a field's unit from its name; fields of one unit share a graph. */
const UNITS = [
  [/(^|_)ms$/, 'ms', 'Times (ms)'],
  [/(^|_)(pct|percent)$/, '%', 'Percentages'],
  [/(^|_)(bytes|kb|mb|gb)$/i, 'bytes', 'Sizes'],
  [/^up$/, 'up', 'Up (1) / down (0)'],
];

/** unitOf is a series' unit and the title of its graph; a name without a known unit is its own. */
function unitOf(field) {
  for (const [re, unit, title] of UNITS) if (re.test(field)) return { unit, title };
  return { unit: `=${field}`, title: field };
}

/** KEEPS_UNIT: functions whose value has the unit of their input (an average of ms is ms). */
const KEEPS_UNIT = /^\s*(avg|min|max|last|percentile|ewma|holt_winters|sum)\s*\(/;

const SERIES = '[A-Za-z_][A-Za-z0-9_.:-]*';
const NUMBER = '-?\\d+(?:\\.\\d+)?';
const FLIP = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '==': '==', '!=': '!=' };

/**
 * thresholdsOf reads the simple comparisons of an SLA test, each part of an and/or (&&, ||):
 * `a.b < 200`, `200 > a.b`, `a.b between 5 and 20` → [{series, op, value}]. Anything else
 * (functions, arithmetic) draws no line.
 */
function thresholdsOf(test) {
  const out = [];
  // "between 5 and 20" holds an "and" that does not join two tests.
  const text = String(test || '').replace(new RegExp(`between\\s+(${NUMBER})\\s+and\\s+(${NUMBER})`, 'g'), 'between $1 & $2');
  for (const part of text.split(/\s+(?:and|or)\s+|\s*(?:&&|\|\|)\s*/)) {
    let m = new RegExp(`^\\s*\\(?\\s*(${SERIES})\\s*(<=|>=|<|>|==|!=)\\s*(${NUMBER})\\s*\\)?\\s*$`).exec(part);
    if (m) { out.push({ series: m[1], op: m[2], value: Number(m[3]) }); continue; }
    m = new RegExp(`^\\s*\\(?\\s*(${NUMBER})\\s*(<=|>=|<|>|==|!=)\\s*(${SERIES})\\s*\\)?\\s*$`).exec(part);
    if (m) { out.push({ series: m[3], op: FLIP[m[2]], value: Number(m[1]) }); continue; }
    m = new RegExp(`^\\s*\\(?\\s*(${SERIES})\\s+between\\s+(${NUMBER})\\s+&\\s+(${NUMBER})\\s*\\)?\\s*$`).exec(part);
    if (m) out.push({ series: m[1], op: '>=', value: Number(m[2]) }, { series: m[1], op: '<=', value: Number(m[3]) });
  }
  return out;
}

/** ABSENT: the codes of an operation this node does not have (a subsystem it does not run). */
const ABSENT = new Set(['REMON_ERR_OP_UNKNOWN', 'REMON_ERR_UNAVAILABLE']);

/**
 * safe calls an operation and answers fallback when the node does not have it (or, with
 * also, when it fails with one of those codes); any other failure is the page's error, so
 * that a broken part is not shown as an empty one.
 */
async function safe(page, method, params, fallback, also = []) {
  try {
    return await page.rpc(method, params);
  } catch (err) {
    if (err && (ABSENT.has(err.code) || also.includes(err.code))) return fallback;
    throw err;
  }
}

/** ORDER sorts states worst first. */
const ORDER = { firing: 0, fail: 0, down: 0, pending: 1, late: 1, acknowledged: 2, unknown: 3, new: 3, ok: 4, up: 4, inactive: 5, paused: 5, resolved: 6 };
const worstFirst = (a, b) => (ORDER[a.state] ?? 9) - (ORDER[b.state] ?? 9) || String(a.name || a.sla).localeCompare(String(b.name || b.sla));

module.exports = { format, primaryField, unitOf, KEEPS_UNIT, thresholdsOf, safe, worstFirst };
