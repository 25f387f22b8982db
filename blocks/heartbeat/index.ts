import { BlockType, durationSchema, JsonSchema } from '../../src/engine/block';
import { HeartbeatHub } from '../../src/heartbeat/hub';
import { HeartbeatOptions, optionProblems, pickOptions } from '../../src/heartbeat/options';

/** HeartbeatBlockOptions: the block's keys in monitor.yaml (see README.md). */
export interface HeartbeatBlockOptions extends HeartbeatOptions {
  name: string;
  escalate?: string;
  severity?: string;
  labels?: Record<string, string>;
  every?: string;
  timeout?: string;
}

/** HEARTBEAT_FIELDS are the fields of its results: how late, errors in a row, a run's runtime and exit code. */
export const HEARTBEAT_FIELDS = ['late_s', 'error_count', 'runtime_s', 'exit_code'] as const;

const duration = (description: string): JsonSchema => durationSchema('30s, 5m, 1h or 1d', description);

/**
 * heartbeatBlock watches for a job that must report in (a cron script, a backup, an ETL
 * run). It is passive: the job signals `/hb/NAME` (or `remon send NAME`), and one timer
 * over all heartbeats fires at each deadline. The work is in src/heartbeat (the hub); a
 * block instance only attaches its heartbeat to it.
 */
export const heartbeatBlock: BlockType<HeartbeatBlockOptions> = {
  type: 'heartbeat',
  description: 'A job that must report in: signalled over HTTP (/hb/NAME), down when a report does not come in time.',
  passive: true,
  schema: {
    properties: {
      period: duration('Rolling: the next success is due this long after the last one (MEMon "rolling").'),
      schedule: {
        type: 'string',
        minLength: 1,
        'x-expected': 'a cron expression, e.g. "0 3 * * *" or @daily',
        description: 'Fixed: a success is due at each fire time of this cron expression (5 fields, or 6 with seconds first).',
      },
      tz: { type: 'string', minLength: 1, 'x-expected': 'an IANA time zone such as Europe/Berlin', description: 'Time zone of schedule (default UTC).' },
      grace: duration('How long past a deadline the heartbeat is late before it is down (default 1m).'),
      max_runtime: duration('After a start signal, a run not finished within this is down (default: grace).'),
      paused: { type: 'boolean', 'x-expected': 'true or false', description: 'No deadlines while paused; signals are still recorded.' },
      // Alerting (src/alerts): a heartbeat going down raises an alert as a firing SLA does.
      escalate: { type: 'string', minLength: 1, description: 'The escalation told when the heartbeat goes down (default: notify.default_escalation).' },
      severity: { type: 'string', minLength: 1, description: 'Severity of its alert (default page).' },
      labels: {
        type: 'object',
        additionalProperties: { type: 'string', 'x-expected': 'a label value (text)' },
        'x-expected': 'a mapping of label names to values',
        description: 'Labels of its alert, for silences and routing.',
      },
    },
  },
  check(o) {
    const problems: Array<[string, string]> = [];
    if (o.every !== undefined) problems.push(['every', 'a heartbeat is signalled, not run; say how often it must report with period (or schedule)']);
    if (o.timeout !== undefined) problems.push(['timeout', 'a heartbeat is signalled, not run; limit a run (start to success) with max_runtime']);
    problems.push(...optionProblems(pickOptions(o as unknown as Record<string, unknown>) as Record<string, unknown>));
    return problems;
  },
  fields: () => HEARTBEAT_FIELDS,
  create(o, env) {
    const hub = env.hub as HeartbeatHub;
    hub.attach(env.name, o as unknown as Record<string, unknown>, env.emit, env.restore);
    return {
      run: async () => ({ ok: false, message: 'a heartbeat is signalled (/hb/NAME), not run' }),
    };
  },
  hub: (env) => new HeartbeatHub(env),
};
