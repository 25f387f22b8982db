import type { JsonSchema } from '../../engine/block';
import type { ConfigSection, SectionIssue } from '../../config/section';
import { templateProblem } from '../../notify/template';
import type { ContactConfig, WebhookConfig, WebhookPreset } from '../config';
import { durationRef, isMap, ms, nameMap } from './common';

/** DEFAULT_CONTACT_TIMEOUT_MS: a webhook request or a command is given this long. */
export const DEFAULT_CONTACT_TIMEOUT_MS = 10_000;

const PRESETS: readonly WebhookPreset[] = ['json', 'slack', 'discord', 'ntfy', 'pagerduty'];
/** PAGERDUTY_URL is where the pagerduty preset posts unless a url is given. */
export const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';

const httpUrl: JsonSchema = { type: 'string', pattern: '^https?://[^\\s/]+', 'x-expected': 'an http:// or https:// URL' };

const webhookObject: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { ...httpUrl, description: 'Where the POST goes (for preset pagerduty, default the Events API v2).' },
    preset: { enum: PRESETS, description: 'Body shape: json (remon\'s payload, default), slack (also Mattermost, Rocket.Chat), discord, ntfy, pagerduty.' },
    template: { type: 'string', minLength: 1, description: 'A Liquid template of the body; {{ values }} are escaped for JSON strings.' },
    content_type: { type: 'string', minLength: 1, description: 'Content-Type of a templated body (default application/json).' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, 'x-expected': 'a mapping of header names to values', description: 'Extra request headers.' },
    routing_key: { type: 'string', minLength: 1, description: 'PagerDuty integration key (preset pagerduty).' },
  },
};

const contactSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  'x-expected': 'a contact: a mapping with webhook, email, command or log',
  properties: {
    webhook: { anyOf: [httpUrl, webhookObject], 'x-expected': 'a URL, or a mapping with url, preset, template, headers', description: 'POST the alert as JSON (docs/alerts.md).' },
    email: {
      anyOf: [{ type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' }, { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' } }],
      'x-expected': 'an e-mail address or a list of them',
      description: 'Mail the alert (through notify.smtp).',
    },
    command: {
      anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string' } }],
      'x-expected': 'a command: a list (program and arguments) or a shell line',
      description: 'Run a command with the alert as REMON_ALERT_* environment variables and JSON on stdin.',
    },
    log: { type: 'boolean', 'x-expected': 'true or false', description: 'Write notifications to the node\'s log.' },
    timeout: durationRef('A webhook request or a command is given this long (default 10s).'),
  },
};

/** checkContacts: each contact has a channel; presets have what they need; templates parse; e-mail has a server. */
function checkContacts(raw: unknown, ctx: Parameters<NonNullable<ConfigSection['check']>>[1]): SectionIssue[] {
  const issues: SectionIssue[] = [];
  if (!isMap(raw)) return issues;
  const smtp = isMap(ctx.raw.notify) && isMap(ctx.raw.notify.smtp);
  for (const [name, c] of Object.entries(raw)) {
    if (!isMap(c)) continue;
    const at = ['contacts', name];
    if (c.webhook === undefined && c.email === undefined && c.command === undefined && c.log !== true) {
      issues.push({ path: at, message: 'a contact needs a way to be told: webhook, email, command or log: true' });
    }
    if (c.email !== undefined && !smtp) issues.push({ path: [...at, 'email'], message: 'e-mail needs a mail server; set notify.smtp (host, port, from)' });
    const w = c.webhook;
    if (!isMap(w)) continue;
    if (w.preset === 'pagerduty' && typeof w.routing_key !== 'string') {
      issues.push({ path: [...at, 'webhook'], message: 'preset pagerduty needs routing_key (the integration key of a PagerDuty service)' });
    }
    if (w.preset !== 'pagerduty' && w.url === undefined) issues.push({ path: [...at, 'webhook'], message: 'missing required key "url"' });
    if (w.routing_key !== undefined && w.preset !== 'pagerduty') issues.push({ path: [...at, 'webhook', 'routing_key'], message: 'routing_key is for preset pagerduty; remove it or set preset: pagerduty' });
    if (typeof w.template === 'string') {
      const problem = templateProblem(w.template);
      if (problem) issues.push({ path: [...at, 'webhook', 'template'], message: problem });
    }
  }
  return issues;
}

function buildWebhook(w: unknown, timeoutMs: number): WebhookConfig | undefined {
  if (w === undefined) return undefined;
  const o: Record<string, unknown> = typeof w === 'string' ? { url: w } : (w as Record<string, unknown>);
  const preset = (o.preset as WebhookPreset | undefined) ?? 'json';
  return {
    url: (o.url as string | undefined) ?? PAGERDUTY_URL,
    preset,
    ...(typeof o.template === 'string' && { template: o.template }),
    contentType: (o.content_type as string | undefined) ?? 'application/json',
    headers: { ...(o.headers as Record<string, string> | undefined) },
    ...(typeof o.routing_key === 'string' && { routingKey: o.routing_key }),
    timeoutMs,
  };
}

/** contactsSection is `contacts:`: who can be told, and how (webhook, e-mail, command, log). */
export const contactsSection: ConfigSection<'contacts', Record<string, Record<string, unknown>>> = {
  key: 'contacts',
  reload: 'live',
  schema: nameMap('contact', contactSchema, 'People and systems alerts are sent to, by name (docs/alerts.md).'),
  check: checkContacts,
  build(raw) {
    const out: Record<string, ContactConfig> = {};
    for (const [name, c] of Object.entries(raw ?? {})) {
      const timeoutMs = ms(c.timeout) ?? DEFAULT_CONTACT_TIMEOUT_MS;
      const cmd = c.command;
      out[name] = {
        name,
        webhook: buildWebhook(c.webhook, timeoutMs),
        email: c.email === undefined ? [] : ([] as string[]).concat(c.email as string | string[]),
        ...(cmd !== undefined && { command: { argv: typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : (cmd as string[]), timeoutMs } }),
        log: c.log === true,
      };
    }
    return out;
  },
};
