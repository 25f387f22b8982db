import type { JsonSchema } from '../../engine/block';
import type { ConfigSection, SectionIssue } from '../../config/section';
import { parseDuration } from '../../util/duration';
import type { EscalationConfig, Target } from '../config';
import { durationRef, escalationIssue, isMap, ms, namesIn, nameMap, refIssue } from './common';

/** DEFAULT_GROUP_WAIT_MS: alerts of one escalation firing this close together go out as one notification. */
export const DEFAULT_GROUP_WAIT_MS = 10_000;
const MIN_REPEAT_AFTER_MS = 60_000;

const escalationSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['levels'],
  'x-expected': 'an escalation: a mapping with levels (and repeat, ack_timeout)',
  properties: {
    levels: {
      type: 'array',
      minItems: 1,
      description: 'Notified in order, each `after` the escalation started unless the alert was acknowledged.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['notify'],
        properties: {
          notify: {
            type: 'array',
            minItems: 1,
            items: { type: 'string', minLength: 1 },
            'x-expected': 'a list of contacts and schedule:NAME',
            description: 'Contacts, and schedule:NAME for whoever is on call then.',
          },
          after: durationRef('How long after the alert fired (or escalation resumed) this level is told (default 0s).'),
        },
      },
    },
    repeat: { type: 'integer', minimum: 0, maximum: 100, description: 'Run the levels again this many times while nobody acknowledges (default 0).' },
    repeat_after: durationRef('From the last level to the start of a repeat (default: the gap before the last level, at least 1m).'),
    ack_timeout: durationRef('An acknowledged alert not resolved this long after the ack fires again and escalation resumes.'),
    group_wait: durationRef('Alerts of this escalation that fire within this window go out as one notification (default 10s; 0s sends each at once).'),
    send_resolved: { type: 'boolean', 'x-expected': 'true or false', description: 'Tell those who were told when the alert is acknowledged or resolved (default true).' },
  },
};

/** checkEscalations: targets that exist, levels in order; and every `escalate:` of a heartbeat and notify.default_escalation. */
function checkEscalations(raw: unknown, ctx: Parameters<NonNullable<ConfigSection['check']>>[1]): SectionIssue[] {
  const issues: SectionIssue[] = [];
  const contacts = namesIn(ctx.raw.contacts);
  const schedules = namesIn(ctx.raw.schedules);
  for (const [name, e] of Object.entries(isMap(raw) ? raw : {})) {
    if (!isMap(e) || !Array.isArray(e.levels)) continue;
    let previous = 0;
    let previousText = '0s';
    e.levels.forEach((l, i) => {
      if (!isMap(l)) return;
      const at = ['escalations', name, 'levels', i];
      if (Array.isArray(l.notify)) {
        l.notify.forEach((t, j) => {
          if (typeof t !== 'string') return;
          const schedule = /^schedule:(.*)$/.exec(t);
          const issue = schedule
            ? refIssue('schedule', schedule[1], schedules, [...at, 'notify', j], ' (add it under schedules:)')
            : refIssue('contact', t, contacts, [...at, 'notify', j], ' (add it under contacts:, or write schedule:NAME)');
          if (issue) issues.push(issue);
        });
      }
      const after = typeof l.after === 'string' ? parseDuration(l.after) : 0;
      if (after !== undefined && after < previous) {
        issues.push({ path: [...at, 'after'], message: `levels are told in order; "after" must be at least the previous level's (${previousText}); got "${l.after}"` });
      } else if (after !== undefined && after > previous) {
        previous = after;
        previousText = String(l.after);
      }
    });
  }
  if (Array.isArray(ctx.raw.blocks)) {
    ctx.raw.blocks.forEach((b, i) => {
      if (isMap(b) && b.escalate !== undefined) {
        const issue = escalationIssue(ctx.raw, b.escalate, ['blocks', i, 'escalate']);
        if (issue) issues.push(issue);
      }
    });
  }
  if (isMap(ctx.raw.notify) && ctx.raw.notify.default_escalation !== undefined) {
    const issue = escalationIssue(ctx.raw, ctx.raw.notify.default_escalation, ['notify', 'default_escalation']);
    if (issue) issues.push(issue);
  }
  return issues;
}

/** target reads `schedule:NAME` or a contact name. */
function target(t: string): Target {
  const m = /^schedule:(.*)$/.exec(t);
  return m ? { schedule: m[1] } : { contact: t };
}

/** escalationsSection is `escalations:`: who is told, in which order, until someone acknowledges. */
export const escalationsSection: ConfigSection<'escalations', Record<string, Record<string, unknown>>> = {
  key: 'escalations',
  reload: 'live',
  schema: nameMap('escalation', escalationSchema, 'Escalation policies, by name; an SLA (or heartbeat) names one with escalate: (docs/alerts.md).'),
  check: checkEscalations,
  build(raw) {
    const out: Record<string, EscalationConfig> = {};
    for (const [name, e] of Object.entries(raw ?? {})) {
      const levels = (e.levels as Array<Record<string, unknown>>).map((l) => ({ notify: (l.notify as string[]).map(target), afterMs: ms(l.after) ?? 0 }));
      const last = levels[levels.length - 1].afterMs;
      const gap = levels.length > 1 ? last - levels[levels.length - 2].afterMs : last;
      out[name] = {
        name,
        levels,
        repeat: (e.repeat as number | undefined) ?? 0,
        repeatAfterMs: ms(e.repeat_after) ?? Math.max(MIN_REPEAT_AFTER_MS, gap),
        ...(e.ack_timeout !== undefined && { ackTimeoutMs: ms(e.ack_timeout) }),
        groupWaitMs: ms(e.group_wait) ?? DEFAULT_GROUP_WAIT_MS,
        sendResolved: e.send_resolved !== false,
      };
    }
    return out;
  },
};
