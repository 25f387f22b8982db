import type { JsonSchema } from '../engine/block';
import { createError } from '../errors';
import { defineOp, noParams } from '../ops/operation';
import { parseDuration } from '../util/duration';
import { alertingOf } from './instance';
import { onCall, turnEnd } from './oncall';
import { parseWhen, WHEN_PATTERN } from './sections/common';
import { buildMatchers, matchSchema } from './sections/silences';
import type { Alerting } from './alerting';
import type { Alert, AlertState } from './types';
import { alertView, AlertView, notificationsOf, silenceView } from './view';

const id: JsonSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$', 'x-expected': 'an alert id, e.g. 12' };
const STATES: Array<AlertState | 'active'> = ['active', 'pending', 'firing', 'acknowledged', 'resolved'];
const when: JsonSchema = { type: 'string', pattern: WHEN_PATTERN, 'x-expected': 'a date and time like 2026-12-02T06:00:00Z' };
const who: JsonSchema = { type: 'string', minLength: 1, maxLength: 100 };
/** LIST_HISTORY: history lines per alert in a list (an alert keeps up to 200). */
const LIST_HISTORY = 20;
const linkParams: JsonSchema = { type: 'object', additionalProperties: false, required: ['token'], properties: { token: { type: 'string', maxLength: 200 } } };

/** viewOf renders an alert of this node for an answer. */
const viewOf = (al: Alerting, a: Alert, maxHistory?: number): AlertView => alertView(a, al.escalationOf(a)?.name, al.suppressedWhy(a), al.now(), maxHistory);

/** alertsList: GET /api/alerts, newest first, with state and history. */
export const alertsList = defineOp<{ state?: AlertState | 'active'; limit?: string | number }, unknown>({
  name: 'alerts.list',
  summary: 'Alerts, newest first: state pending|firing|acknowledged|resolved, escalation level, why suppressed, the last 20 lines of history (GET /api/alerts/:id has all). ?state= (or active) filters; ?limit= caps (default 500).',
  params: {
    type: 'object',
    additionalProperties: false,
    properties: { state: { enum: STATES }, limit: { type: ['string', 'integer'], pattern: '^[1-9]\\d{0,4}$', minimum: 1, maximum: 10000, 'x-expected': 'a number from 1 to 10000' } },
  },
  write: false,
  http: { method: 'GET', path: '/api/alerts' },
  handler: (p, ctx) => {
    const al = alertingOf(ctx);
    const limit = Number(p.limit ?? 500);
    const keep = (s: AlertState): boolean => p.state === undefined || p.state === s || (p.state === 'active' && s !== 'resolved');
    const out = [];
    for (const a of al.all()) {
      if (out.length >= limit) break;
      if (keep(a.state)) out.push(viewOf(al, a, LIST_HISTORY));
    }
    return out;
  },
});

/** alertsGet: one alert, with its notifications (each delivery and its outcome) and actions. */
export const alertsGet = defineOp<{ id: string }, unknown>({
  name: 'alerts.get',
  summary: 'One alert with its history, actions and notifications (each contact and channel, sent, failed or pending).',
  params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id } },
  write: false,
  http: { method: 'GET', path: '/api/alerts/:id' },
  handler: ({ id: alertId }, ctx) => {
    const al = alertingOf(ctx);
    const a = al.alert(alertId);
    return { ...viewOf(al, a), notifications: notificationsOf(a, (c) => al.channelsOfContact(c)) };
  },
});

/** alertsAck: POST /api/alerts/:id/ack: escalation stops; ack_timeout resumes it if it is not resolved by then. */
export const alertsAck = defineOp<{ id: string; by?: string; comment?: string }, unknown>({
  name: 'alerts.ack',
  summary: 'Acknowledge an alert: its escalation stops and those told hear who took it. 409 when it is resolved or acknowledged already.',
  params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id, by: who, comment: { type: 'string', maxLength: 1000 } } },
  write: true,
  http: { method: 'POST', path: '/api/alerts/:id/ack' },
  handler: (p, ctx) => {
    const al = alertingOf(ctx);
    const a = al.ack(p.id, p.by ?? (ctx.via === 'http' ? 'api' : ctx.via), p.comment);
    return viewOf(al, a);
  },
});

/** alertsAckLink: the signed link in a notification (GET /ack/:token answers it as a page). */
export const alertsAckLink = defineOp<{ token: string }, unknown>({
  name: 'alerts.ackLink',
  summary: 'Acknowledge an alert with the signed link of a notification (single use, expires); no token needed: the signature is the permission.',
  params: linkParams,
  write: false,
  handler: ({ token }, ctx) => {
    const al = alertingOf(ctx);
    const a = al.ackByLink(token);
    return viewOf(al, a);
  },
});

/** alertsCheckLink: whether a notification's signed link would acknowledge its alert (the page GET /ack/:token shows). */
export const alertsCheckLink = defineOp<{ token: string }, unknown>({
  name: 'alerts.checkLink',
  summary: 'Check the signed link of a notification without using it: the alert it would acknowledge, or why it would not (410).',
  params: linkParams,
  write: false,
  handler: ({ token }, ctx) => {
    const al = alertingOf(ctx);
    const a = al.checkLink(token).alert;
    return viewOf(al, a);
  },
});

/** silencesList: GET /api/silences. */
export const silencesList = defineOp({
  name: 'silences.list',
  summary: 'Silences of monitor.yaml and those made over the API (ended ones for a week), with whether each is active.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/silences' },
  handler: (_p, ctx) => {
    const al = alertingOf(ctx);
    const now = al.now();
    return al.silences.list().map((s) => silenceView(s, now));
  },
});

interface SilenceParams {
  match: Record<string, string | string[]>;
  until?: string;
  for?: string;
  from?: string;
  comment?: string;
  by?: string;
}

/** silencesCreate: POST /api/silences {match, until | for, from?, comment?, by?}; kept across restarts. */
export const silencesCreate = defineOp<SilenceParams, unknown>({
  name: 'silences.create',
  summary: 'Silence alerts whose labels match until a time (until, or for a duration from now); 201 with the silence.',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['match'],
    properties: { match: matchSchema, until: when, for: { type: 'string', pattern: '^(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d|w))+$', 'x-expected': 'a duration like 2h' }, from: when, comment: { type: 'string', maxLength: 1000 }, by: who },
  },
  write: true,
  http: { method: 'POST', path: '/api/silences' },
  handler: (p, ctx) => {
    if ((p.until === undefined) === (p.for === undefined)) throw createError('REMON_ERR_OP_PARAMS', 'give until (a time) or for (a duration), one of them');
    const al = alertingOf(ctx);
    const now = al.now();
    const until = p.until !== undefined ? parseWhen(p.until) : now + parseDuration(p.for!)!;
    const from = p.from !== undefined ? parseWhen(p.from) : undefined;
    if (until === undefined || (p.from !== undefined && from === undefined)) throw createError('REMON_ERR_OP_PARAMS', 'until/from: not a real date and time');
    const s = al.silences.create({ match: buildMatchers(p.match), until, comment: p.comment ?? '', ...(from !== undefined && { from }), ...(p.by && { by: p.by }) });
    ctx.status = 201;
    return silenceView(s, now);
  },
});

/** silencesExpire: POST /api/silences/:id/expire ends an API silence now. */
export const silencesExpire = defineOp<{ id: string }, unknown>({
  name: 'silences.expire',
  summary: 'End a silence made over the API now; alerts it held are told.',
  params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id } },
  write: true,
  http: { method: 'POST', path: '/api/silences/:id/expire' },
  handler: ({ id: sid }, ctx) => {
    const al = alertingOf(ctx);
    return silenceView(al.silences.expire(sid), al.now());
  },
});

/** contactsList: GET /api/contacts: each contact's channels and how its receivers are doing. */
export const contactsList = defineOp({
  name: 'contacts.list',
  summary: 'Contacts with their channels, and each receiver\'s state: ok, failing (last error, since) or unknown (not used yet).',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/contacts' },
  handler: (_p, ctx) => {
    const al = alertingOf(ctx);
    const receivers = al.receivers();
    const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());
    return Object.keys(al.currentConfig.contacts).sort().map((name) => ({
      name,
      channels: al.channelsOfContact(name).map((channel) => {
        const r = receivers.find((x) => x.contact === name && x.channel === channel);
        return { channel, state: r?.state ?? 'unknown', since: iso(r?.since), sent: r?.sent ?? 0, failures: r?.failures ?? 0, waiting: r?.waiting ?? 0, lastError: r?.lastError ?? null, lastSentAt: iso(r?.lastSentAt) };
      }),
    }));
  },
});

/** oncallList: GET /api/oncall?at=: who each schedule has on call (now, or at a time). */
export const oncallList = defineOp<{ at?: string }, unknown>({
  name: 'oncall.list',
  summary: 'Who each schedule has on call now (or ?at= a time), from which layer or override, and until when (the next change within 15 days, else null).',
  params: { type: 'object', additionalProperties: false, properties: { at: when } },
  write: false,
  http: { method: 'GET', path: '/api/oncall' },
  handler: (p, ctx) => {
    const al = alertingOf(ctx);
    const t = p.at !== undefined ? parseWhen(p.at) : al.now();
    if (t === undefined) throw createError('REMON_ERR_OP_PARAMS', 'at: not a real date and time');
    return Object.values(al.currentConfig.schedules).map((s) => {
      const o = onCall(s, t);
      const until = turnEnd(s, t);
      return { schedule: s.name, tz: s.tz, person: o.person ?? null, from: o.from ?? null, until: until === undefined ? null : new Date(until).toISOString() };
    });
  },
});

/** alertOps are the alerts' operations. */
export const alertOps = [alertsList, alertsGet, alertsAck, alertsAckLink, alertsCheckLink, silencesList, silencesCreate, silencesExpire, contactsList, oncallList];
