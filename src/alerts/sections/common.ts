import type { JsonSchema } from '../../engine/block';
import { suggest } from '../../config/messages';
import type { Path, SectionIssue } from '../../config/section';
import { parseDuration } from '../../util/duration';
import { fromLocal } from '../../util/zone';

/** CONTACT_NAME: contact, schedule and escalation names (no ':', which marks `schedule:NAME`). */
export const CONTACT_NAME = '^[A-Za-z0-9_.-]+$';

/** nameMap is the schema of a mapping from names to `value`. */
export function nameMap(what: string, value: JsonSchema, description: string): JsonSchema {
  return {
    type: 'object',
    description,
    'x-expected': `a mapping of ${what} names to their definitions`,
    propertyNames: { pattern: CONTACT_NAME },
    additionalProperties: value,
  };
}

/** durationRef refers to the shared duration definition. */
export const durationRef = (description: string): JsonSchema => ({ $ref: '#/definitions/duration', description });

/** WHEN_PATTERN: a date and time, with an optional Z or offset. */
export const WHEN_PATTERN = '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?:Z|[+-]\\d{2}:?\\d{2})?$';

/** when is the schema of a date-time value. */
export const when = (description: string): JsonSchema => ({
  type: 'string',
  pattern: WHEN_PATTERN,
  'x-expected': 'a date and time like 2026-12-02T06:00 or 2026-12-02T06:00:00Z',
  description,
});

/**
 * parseWhen turns a date-time text into epoch ms: with Z or an offset as written,
 * without one in time zone tz (UTC by default). Undefined when it is not a real time.
 */
export function parseWhen(text: string, tz = 'UTC'): number | undefined {
  if (!new RegExp(WHEN_PATTERN).test(text)) return undefined;
  const iso = text.replace(' ', 'T');
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/.test(iso);
  const t = Date.parse(zoned ? iso : `${iso}Z`);
  if (!Number.isFinite(t)) return undefined;
  // Date.parse rolls 2026-02-30 over; a real date reads back the same.
  const [y, mo, d] = iso.slice(0, 10).split('-').map(Number);
  const back = new Date(Date.UTC(y, mo - 1, d));
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return zoned ? t : fromLocal(t, tz);
}

/** ms parses a duration that passed the schema (undefined stays undefined). */
export function ms(text: unknown): number | undefined {
  return typeof text === 'string' ? parseDuration(text) : undefined;
}

/** isMap tells whether a raw value is a mapping. */
export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** namesIn lists the keys of a raw mapping section (none when it is not a mapping). */
export function namesIn(raw: unknown): string[] {
  return isMap(raw) ? Object.keys(raw) : [];
}

/**
 * refIssue is the issue for a reference to a name that does not exist: `no contact is
 * named "alcie"; did you mean "alice"?` (or the list of names).
 */
export function refIssue(kind: string, name: string, known: readonly string[], path: Path, where = ''): SectionIssue | undefined {
  if (known.includes(name)) return undefined;
  const near = suggest(name, known);
  const hint = near ? `did you mean "${near}"?` : known.length ? `expected one of: ${[...known].sort().join(', ')}` : `none is defined${where}`;
  return { path, message: `no ${kind} is named "${name}"; ${hint}` };
}

/**
 * escalationIssue checks a reference to an escalation policy (an SLA's or a heartbeat's
 * `escalate:`) against the document's `escalations:`. SLAs use it from their section's check.
 */
export function escalationIssue(raw: Readonly<Record<string, unknown>>, name: unknown, path: Path): SectionIssue | undefined {
  if (typeof name !== 'string') return undefined;
  return refIssue('escalation', name, namesIn(raw.escalations), path, ' (add it under escalations:)');
}
