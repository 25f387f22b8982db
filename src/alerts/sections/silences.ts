import type { JsonSchema } from '../../engine/block';
import type { ConfigSection, SectionIssue } from '../../config/section';
import type { Matchers, SilenceConfig } from '../config';
import { isMap, parseWhen, when } from './common';

/** matchSchema: label name → value or list of values. */
export const matchSchema: JsonSchema = {
  type: 'object',
  minProperties: 1,
  'x-expected': 'a mapping of label names to a value (or a list of values)',
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  additionalProperties: {
    anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { type: 'string' } }],
    'x-expected': 'a label value or a list of them',
  },
};

/** silenceSchema is one silence, as in monitor.yaml and POST /api/silences. */
export const silenceSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['match', 'until'],
  properties: {
    match: { ...matchSchema, description: 'Alerts whose labels (their SLA\'s labels, plus sla and severity) have all these values.' },
    from: when('Start (default: at once); without an offset it is UTC.'),
    until: when('End; without an offset it is UTC.'),
    comment: { type: 'string', description: 'Why (shown with the silence).' },
  },
};

/** buildMatchers turns `{team: web, sla: [a, b]}` into lists of values. */
export function buildMatchers(raw: Record<string, string | string[]>): Matchers {
  const out: Matchers = {};
  for (const [k, v] of Object.entries(raw)) out[k] = ([] as string[]).concat(v);
  return out;
}

/** silencesSection is `silences:`: alerts matching labels are not notified until a time. */
export const silencesSection: ConfigSection<'silences', Array<Record<string, unknown>>> = {
  key: 'silences',
  reload: 'live',
  schema: { type: 'array', items: silenceSchema, description: 'Quiet times: matching alerts are kept but not notified (docs/alerts.md).' },
  check(raw) {
    const issues: SectionIssue[] = [];
    if (!Array.isArray(raw)) return issues;
    raw.forEach((s, i) => {
      if (!isMap(s)) return;
      for (const key of ['from', 'until'] as const) {
        if (typeof s[key] === 'string' && parseWhen(s[key] as string) === undefined) issues.push({ path: ['silences', i, key], message: `not a date and time: "${s[key]}"` });
      }
      const from = typeof s.from === 'string' ? parseWhen(s.from) : undefined;
      const until = typeof s.until === 'string' ? parseWhen(s.until) : undefined;
      if (from !== undefined && until !== undefined && until <= from) issues.push({ path: ['silences', i, 'until'], message: `must be after from (${s.from}); got "${s.until}"` });
    });
    return issues;
  },
  build(raw) {
    return (raw ?? []).map((s): SilenceConfig => ({
      match: buildMatchers(s.match as Record<string, string | string[]>),
      ...(typeof s.from === 'string' && { from: parseWhen(s.from) }),
      until: parseWhen(s.until as string)!,
      comment: (s.comment as string | undefined) ?? '',
    }));
  },
};
