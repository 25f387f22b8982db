/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Local receivers for the webhook notifier's tests: each takes POSTs the way the real
 * service documents them and refuses (4xx, with the service's kind of reason) a body
 * that is not of its shape, so a preset that drifts from the service fails its test.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttpServer, TestServer } from './http-servers';

/** Check says what is wrong with a request body, or nothing. */
type Check = (body: any, req: IncomingMessage) => string[];

const isString = (v: unknown, max = Infinity): boolean => typeof v === 'string' && v.length > 0 && v.length <= max;

/** slackCheck: Slack incoming webhooks (and Mattermost, Rocket.Chat) take `text` (mrkdwn). */
const slackCheck: Check = (b) => (isString(b?.text, 40_000) ? [] : ['no_text']);

/** discordCheck: Discord execute-webhook: `content` of at most 2000 characters; allowed_mentions.parse from roles, users, everyone. */
const discordCheck: Check = (b) => {
  const out: string[] = [];
  if (!isString(b?.content, 2000)) out.push('content: Must be 2000 or fewer in length.');
  const parse = b?.allowed_mentions?.parse;
  if (parse !== undefined && (!Array.isArray(parse) || parse.some((p: unknown) => !['roles', 'users', 'everyone'].includes(p as string)))) out.push('allowed_mentions.parse: invalid');
  return out;
};

/** ntfyCheck: ntfy's JSON publishing, POSTed to the server's root: topic, message, title, tags, priority 1-5, up to 3 actions. */
const ntfyCheck: Check = (b, req) => {
  const out: string[] = [];
  if (req.url !== '/') out.push(`JSON messages are published to the root URL, not ${req.url}`);
  if (typeof b?.topic !== 'string' || !/^[-_A-Za-z0-9]{1,64}$/.test(b.topic)) out.push('invalid topic');
  if (b?.message !== undefined && typeof b.message !== 'string') out.push('message must be a string');
  if (b?.title !== undefined && typeof b.title !== 'string') out.push('title must be a string');
  if (b?.tags !== undefined && (!Array.isArray(b.tags) || b.tags.some((t: unknown) => typeof t !== 'string'))) out.push('tags must be strings');
  if (b?.priority !== undefined && (!Number.isInteger(b.priority) || b.priority < 1 || b.priority > 5)) out.push('invalid priority');
  const actions = b?.actions ?? [];
  if (!Array.isArray(actions) || actions.length > 3) out.push('too many actions');
  for (const a of Array.isArray(actions) ? actions : []) {
    if (!['view', 'broadcast', 'http'].includes(a?.action) || !isString(a?.label) || (a.action !== 'broadcast' && !/^https?:\/\//.test(a?.url ?? ''))) out.push('invalid action');
  }
  return out;
};

/** pagerdutyCheck: PagerDuty Events API v2 (/v2/enqueue). */
const pagerdutyCheck: Check = (b) => {
  const out: string[] = [];
  if (typeof b?.routing_key !== 'string' || b.routing_key.length !== 32) out.push("'routing_key' must be a 32 character integration key");
  if (!['trigger', 'acknowledge', 'resolve'].includes(b?.event_action)) out.push("'event_action' is invalid");
  if (b?.dedup_key !== undefined && !isString(b.dedup_key, 255)) out.push("'dedup_key' is invalid");
  if (b?.event_action !== 'trigger' && b?.dedup_key === undefined) out.push("'dedup_key' is required for acknowledge and resolve");
  if (b?.event_action === 'trigger') {
    const p = b.payload;
    if (!isString(p?.summary, 1024)) out.push("'payload.summary' is missing or longer than 1024");
    if (!isString(p?.source)) out.push("'payload.source' is missing");
    if (!['critical', 'error', 'warning', 'info'].includes(p?.severity)) out.push("'payload.severity' is invalid");
    if (p?.timestamp !== undefined && Number.isNaN(Date.parse(p.timestamp))) out.push("'payload.timestamp' is invalid");
    for (const l of b.links ?? []) if (!isString(l?.href)) out.push("'links' is invalid");
  }
  return out;
};

/** jsonCheck: remon's own payload (DESIGN: `{"alert": {id, sla, state, severity, value, since, node, level, message}}`). */
const jsonCheck: Check = (b) => {
  const a = b?.alert;
  const keys = ['id', 'sla', 'state', 'severity', 'value', 'since', 'node', 'level', 'message'];
  const missing = keys.filter((k) => a === undefined || !(k in a));
  return missing.length ? [`missing ${missing.join(', ')}`] : [];
};

export const CHECKS = { slack: slackCheck, discord: discordCheck, ntfy: ntfyCheck, pagerduty: pagerdutyCheck, json: jsonCheck };

/** Received is one request a receiver got: its body parsed, and whether it was taken. */
export interface Received {
  url: string;
  contentType: string;
  body: any;
  status: number;
}

export interface Receiver {
  url: string;
  got: Received[];
  /** Answers the next `n` requests with `status` instead. */
  failNext(n: number, status?: number, text?: string): void;
  close(): Promise<void>;
}

/** startReceiver answers like the service `kind` would: 2xx for a body of its shape, 400 with the reasons otherwise. */
export async function startReceiver(kind: keyof typeof CHECKS): Promise<Receiver> {
  const got: Received[] = [];
  let failing = 0;
  let failStatus = 503;
  let failText = 'busy';
  const server: TestServer = await startHttpServer((req: IncomingMessage, res: ServerResponse, text: string) => {
    let body: unknown;
    let problems: string[];
    try {
      body = JSON.parse(text);
      problems = CHECKS[kind](body, req);
    } catch {
      problems = ['invalid_payload: not JSON'];
    }
    let status = problems.length ? 400 : kind === 'discord' ? 204 : kind === 'pagerduty' ? 202 : 200;
    let answer = problems.length ? JSON.stringify({ errors: problems }) : kind === 'slack' ? 'ok' : kind === 'pagerduty' ? JSON.stringify({ status: 'success', message: 'Event processed' }) : '';
    if (failing > 0 && !problems.length) {
      failing--;
      status = failStatus;
      answer = failText;
    }
    got.push({ url: req.url ?? '', contentType: String(req.headers['content-type']), body, status });
    res.writeHead(status);
    res.end(status === 204 ? undefined : answer);
  });
  return {
    url: server.url,
    got,
    failNext(n, status = 503, text = 'busy') {
      failing = n;
      failStatus = status;
      failText = text;
    },
    close: () => server.close(),
  };
}
