import type { JsonSchema } from '../engine/block';
import type { Config } from '../config/types';
import { post } from '../notify/channels';
import { alertEnv } from '../notify/channels';
import type { AlertPayload } from '../notify/payload';
import { formatDuration, parseDuration } from '../util/duration';
import { describeExit, runProcess } from '../util/process';
import { buildGuard, GuardConfig, guardSchema } from './guard';

/**
 * ActionConfig is one built SLA action (`slas[].actions[]`, monscale's "remedy"): run a
 * command or POST a webhook when the SLA's alert fires, at most once per cooldown and
 * max_per_day times in any 24 hours, within its guard's bounds; with repeat, again each
 * cooldown while the SLA fires.
 */
export interface ActionConfig {
  /** argv (a string in monitor.yaml runs with /bin/sh -c). */
  run?: string[];
  webhook?: string;
  cooldownMs: number;
  maxPerDay?: number;
  timeoutMs: number;
  /** Bounds read at each decision (shared state, a counter, a series). */
  guard?: GuardConfig;
  /** Run again each cooldown while the SLA still fires (a scaling action). */
  repeat?: boolean;
}

/** DEFAULT_ACTION_TIMEOUT_MS: an action's command or request is given this long. */
export const DEFAULT_ACTION_TIMEOUT_MS = 60_000;

/**
 * actionSchema is the JSON Schema of one action as written under `slas[].actions`; the SLA
 * section puts it in its schema (`actions: { type: 'array', items: actionSchema }`), checks
 * that each has run or webhook (a oneOf of `required` alone is refused by ajv's strict
 * mode, and its message would say less) and builds each with buildAction.
 */
export const actionSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  'x-expected': 'an action: { run: "command" } or { webhook: URL }, with cooldown, max_per_day, guard and repeat',
  properties: {
    run: {
      anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string' } }],
      'x-expected': 'a shell line, or a list (program and arguments)',
      description: 'A command run when the SLA fires (the alert as REMON_ALERT_* variables and JSON on stdin).',
    },
    webhook: { type: 'string', pattern: '^https?://[^\\s/]+', 'x-expected': 'an http:// or https:// URL', description: 'A URL POSTed {action, alert} when the SLA fires.' },
    cooldown: { $ref: '#/definitions/duration', description: 'Not again sooner than this after the last run (default 0s).' },
    max_per_day: { type: 'integer', minimum: 1, description: 'At most this many runs in any 24 hours.' },
    timeout: { $ref: '#/definitions/duration', description: 'The command or request is given this long (default 1m).' },
    guard: guardSchema,
    repeat: { type: 'boolean', 'x-expected': 'true or false', description: 'Run again each cooldown while the SLA still fires (default false: once per firing).' },
  },
};

/** buildAction builds one action that passed actionSchema. */
export function buildAction(raw: Record<string, unknown>): ActionConfig {
  const run = raw.run;
  return {
    ...(run !== undefined && { run: typeof run === 'string' ? ['/bin/sh', '-c', run] : [...(run as string[])] }),
    ...(typeof raw.webhook === 'string' && { webhook: raw.webhook }),
    cooldownMs: typeof raw.cooldown === 'string' ? parseDuration(raw.cooldown) ?? 0 : 0,
    ...(typeof raw.max_per_day === 'number' && { maxPerDay: raw.max_per_day }),
    timeoutMs: typeof raw.timeout === 'string' ? parseDuration(raw.timeout) ?? DEFAULT_ACTION_TIMEOUT_MS : DEFAULT_ACTION_TIMEOUT_MS,
    ...(typeof raw.guard === 'object' && raw.guard !== null && { guard: buildGuard(raw.guard as Record<string, unknown>) }),
    ...(raw.repeat === true && { repeat: true }),
  };
}

/**
 * SlaActions finds an SLA's actions by its name. The default reads `config.slas[].actions`
 * (built with buildAction, or raw as written) once the `slas:` section exists; a node
 * without it has none.
 */
export type SlaActions = (config: Config, sla: string) => readonly ActionConfig[];

const NO_ACTIONS: readonly ActionConfig[] = [];

/** indexed holds each config's actions by SLA name, made at the first lookup (a reload brings new slas). */
const indexed = new WeakMap<object, Map<string, readonly ActionConfig[]>>();

/**
 * actionsFromConfig is the default SlaActions. It runs at each firing, so the SLAs' actions
 * are indexed by name once per config rather than found by a scan of every SLA.
 */
export const actionsFromConfig: SlaActions = (config, sla) => {
  const slas = (config as unknown as { slas?: Array<{ name?: string; actions?: unknown[] }> }).slas;
  if (!Array.isArray(slas)) return NO_ACTIONS;
  let byName = indexed.get(slas);
  if (!byName) {
    byName = new Map();
    for (const s of slas) {
      // The first of a name counts (names are unique in a checked config).
      if (typeof s?.name !== 'string' || byName.has(s.name)) continue;
      byName.set(s.name, Array.isArray(s.actions) ? s.actions.map(built) : NO_ACTIONS);
    }
    indexed.set(slas, byName);
  }
  return byName.get(sla) ?? NO_ACTIONS;
};

/** built is an action of config.slas: built already (by the section), or raw as written. */
function built(a: unknown): ActionConfig {
  const x = a as Record<string, unknown>;
  return typeof x.cooldownMs === 'number' ? (x as unknown as ActionConfig) : buildAction(x);
}

/** describeAction words an action: "run: systemctl restart web", "webhook: http://...". */
export function describeAction(a: ActionConfig): string {
  if (a.run) return `run: ${a.run[0] === '/bin/sh' && a.run[1] === '-c' ? a.run[2] : a.run.join(' ')}`;
  return `webhook: ${a.webhook}`;
}

/**
 * actionGate says whether an action may run at `now` given its recent run times (oldest
 * first): undefined (yes), or why not. `lastBy` names the node of the last run when it was
 * another one (a cluster).
 */
export function actionGate(a: ActionConfig, times: readonly number[], now: number, lastBy?: string): { status: 'cooldown' | 'cap'; detail: string } | undefined {
  const last = times.length ? times[times.length - 1] : undefined;
  if (last !== undefined && now - last < a.cooldownMs) {
    return { status: 'cooldown', detail: `ran ${formatDuration(Math.max(0, now - last))} ago${lastBy ? ` on ${lastBy}` : ''}; cooldown ${formatDuration(a.cooldownMs)}` };
  }
  const today = times.filter((t) => t > now - 86_400_000).length;
  if (a.maxPerDay !== undefined && today >= a.maxPerDay) return { status: 'cap', detail: `ran ${today} times in the last 24h; max_per_day ${a.maxPerDay}` };
  return undefined;
}

/** runAction runs an action for an alert; it resolves to undefined when it worked, or what went wrong. */
export async function runAction(a: ActionConfig, alert: AlertPayload): Promise<{ error?: string; output?: string }> {
  if (a.run) {
    const r = await runProcess(a.run, { env: alertEnv(alert, 1), input: JSON.stringify({ alert }), timeoutMs: a.timeoutMs });
    const why = describeExit(r, formatDuration(a.timeoutMs));
    return { ...(why && { error: why }), output: r.output.slice(0, 500) };
  }
  try {
    await post({ url: a.webhook!, body: JSON.stringify({ action: describeAction(a), alert }), contentType: 'application/json' }, {}, a.timeoutMs);
    return {};
  } catch (err) {
    return { error: (err as Error).message };
  }
}
