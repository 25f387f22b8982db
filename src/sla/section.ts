import { ActionConfig, actionSchema, buildAction } from '../alerts/actions';
import type { JsonSchema } from '../engine/block';
import { blockName } from '../config/schema';
import type { ConfigSection } from '../config/section';
import { parseDuration } from '../util/duration';
import { checkSlas } from './check';
import { isCountTest } from './compile';
import type { NoData } from './types';

/** SlaConfig is one built `slas:` entry: plain data (expressions as text), durations in ms. */
export interface SlaConfig {
  name: string;
  /** The condition tested (for an objective SLA: its `good` condition). */
  test: string;
  /** An SLO: the share of good evaluations to keep over a rolling window. */
  objective?: { target: number; windowMs: number };
  forMs: number;
  keepFiringForMs: number;
  cooldownMs: number;
  during?: { cron: string; tz: string };
  /** Evaluated at each fire time of `during` (a count test), not on samples. */
  slots: boolean;
  /** Also evaluated this often without a sample (samples mode), so stale inputs show. */
  everyMs: number;
  noData: NoData;
  severity: string;
  labels: Record<string, string>;
  escalate?: string;
  dependsOn: string[];
  /** Remediation the alerts run when it fires (cooldown, max_per_day). */
  actions: ActionConfig[];
}

declare module '../config/types' {
  interface Config {
    slas: SlaConfig[];
  }
}

/** DEFAULT_SLA_EVERY_MS: a samples SLA is evaluated at least this often, with or without samples. */
export const DEFAULT_SLA_EVERY_MS = 30_000;

/** RawSla is one `slas:` entry after validation, before defaults. */
export interface RawSla {
  name: string;
  test?: string;
  objective?: { good: string; target: string | number; window: string };
  for?: string;
  keep_firing_for?: string;
  cooldown?: string;
  during?: { cron: string; tz?: string };
  slots?: boolean;
  every?: string;
  no_data?: NoData;
  severity?: string;
  labels?: Record<string, string>;
  escalate?: string;
  depends_on?: string[];
  actions?: Array<Record<string, unknown>>;
}

const dur = (description: string): JsonSchema => ({ $ref: '#/definitions/duration', description });
const condition = (description: string): JsonSchema => ({
  type: 'string', minLength: 1, 'x-expected': 'a condition over series, e.g. "homepage.fast_ratio >= 0.8"', description,
});

/** slaSchema: one entry of `slas:`. */
const slaSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  'x-expected': 'an SLA (a mapping with name, and test or objective)',
  properties: {
    name: { ...blockName, description: 'Unique SLA name; its series are sla.<name>.ok and sla.<name>.budget_remaining.' },
    test: condition('The condition that must hold; a failing one shows the values it saw.'),
    objective: {
      type: 'object',
      additionalProperties: false,
      required: ['good', 'target', 'window'],
      'x-expected': 'an objective { good: <condition>, target: 99.9%, window: 30d }',
      description: 'An SLO: the error budget as a series and multi-window burn-rate alerts (fast, slow, ticket).',
      properties: {
        good: condition('What a good evaluation is.'),
        target: {
          type: ['string', 'number'],
          pattern: '^[0-9]+(\\.[0-9]+)?%$',
          'x-expected': 'a percentage like 99.9% (or a fraction like 0.999)',
          description: 'The share of good evaluations to keep.',
        },
        window: dur('The rolling window of the objective, e.g. 30d.'),
      },
    },
    for: dur('The test must fail this long before the SLA fires (pending meanwhile; default 0s).'),
    keep_firing_for: dur('A firing SLA stays firing this long after its test stops failing (anti-flap; default 0s).'),
    cooldown: dur('A new firing within this long after a notified one is not notified again (default 0s).'),
    during: {
      type: 'object',
      additionalProperties: false,
      required: ['cron'],
      'x-expected': 'a window { cron: "* 8-20 * * 1-5", tz: Europe/Berlin }',
      description: 'When the SLA is active (a cron of the minutes it covers), or the slots of a count test.',
      properties: {
        cron: { type: 'string', minLength: 1, 'x-expected': 'a cron expression like "* 8-20 * * 1-5"' },
        tz: { type: 'string', minLength: 1, 'x-expected': 'an IANA time zone like Europe/Berlin' },
      },
    },
    slots: {
      type: 'boolean',
      'x-expected': 'true or false',
      description: 'Evaluate at each fire time of during (default: true for count tests such as count(orders.new, 3m) between 5 and 20).',
    },
    every: dur(`Also evaluate this often without a new sample, so stale inputs show (default ${DEFAULT_SLA_EVERY_MS / 1000}s).`),
    no_data: { enum: ['ok', 'fail', 'unknown'], description: 'What a test over missing series counts as (default unknown).' },
    severity: { ...blockName, description: 'Carried to the alerts (default page).' },
    labels: {
      type: 'object',
      'x-expected': 'a mapping of label names to text',
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', 'x-expected': 'a label name of letters, digits and _' },
      additionalProperties: { type: 'string', 'x-expected': 'text' },
    },
    escalate: { type: 'string', minLength: 1, description: 'The escalation policy its alerts follow (escalations:).' },
    depends_on: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'SLAs (or heartbeats) that inhibit this one while they fire.' },
    actions: { type: 'array', items: actionSchema, description: 'Remediation when it fires, bounded by cooldown and max_per_day (run by the alerts).' },
  },
};

/** targetOf reads an objective target: `99.9%` or `0.999` → 0.999. */
export function targetOf(t: string | number): number {
  // toPrecision drops the binary noise of the division (99.9 / 100 is 0.9990000000000001).
  return typeof t === 'number' ? t : Number((Number(t.slice(0, -1)) / 100).toPrecision(15));
}

const ms = (d: string | undefined, dflt = 0): number => (d === undefined ? dflt : parseDuration(d) ?? dflt);

/** buildSla fills an entry's defaults. */
function buildSla(r: RawSla): SlaConfig {
  const test = r.objective?.good ?? r.test!;
  const out: SlaConfig = {
    name: r.name,
    test,
    forMs: ms(r.for),
    keepFiringForMs: ms(r.keep_firing_for),
    cooldownMs: ms(r.cooldown),
    slots: r.slots ?? (r.during !== undefined && isCountTest(test)),
    everyMs: ms(r.every, DEFAULT_SLA_EVERY_MS),
    noData: r.no_data ?? 'unknown',
    severity: r.severity ?? 'page',
    labels: { ...r.labels },
    dependsOn: [...(r.depends_on ?? [])],
    actions: (r.actions ?? []).map(buildAction),
  };
  if (r.objective) out.objective = { target: targetOf(r.objective.target), windowMs: ms(r.objective.window) };
  if (r.during) out.during = { cron: r.during.cron, tz: r.during.tz ?? 'UTC' };
  if (r.escalate !== undefined) out.escalate = r.escalate;
  return out;
}

/**
 * slasSection is `slas:`: continuous tests over series (docs/slas.md). It runs after the
 * blocks and derived series, whose series its tests read (an unknown name is an error with
 * "did you mean"); it adds each SLA's own series to the catalog for the sections after it.
 */
export const slasSection: ConfigSection<'slas', RawSla[]> = {
  key: 'slas',
  reload: 'live',
  after: ['blocks', 'peers', 'derive'],
  schema: {
    type: 'array',
    'x-expected': 'a list of SLAs, each starting with "- name:"',
    description: 'SLA tests: conditions over series, tested continuously (docs/slas.md).',
    items: slaSchema,
  },
  check: checkSlas,
  build: (raw) => (raw ?? []).map(buildSla),
};
