import { heartbeatName, parseCommand, remoteOf } from './args';
import { OPTION_KEYS } from '../heartbeat/options';
import { cronProblem, tzProblem } from '../heartbeat/schedule';
import { HeartbeatView } from '../heartbeat/types';
import { parseDuration } from '../util/duration';
import type { CliIO } from './commands';
import { heartbeatsConfigure } from '../heartbeat/ops';
import { callOp, failure } from './remote';

/** writeBack renders a heartbeat as the monitor.yaml block that says the same. */
export function writeBack(v: HeartbeatView): string {
  const lines = [`  - name: ${v.name}`, '    type: heartbeat'];
  for (const k of OPTION_KEYS) {
    const value = (v.options as Record<string, unknown>)[k];
    if (value === undefined || value === null || value === '' || value === false) continue;
    lines.push(`    ${k}: ${typeof value === 'string' && /[:#*@"'{}[\],&!|>%`]|^\s|\s$/.test(value) ? JSON.stringify(value) : value}`);
  }
  return lines.join('\n');
}

/** describe says what a heartbeat is now and how it differs from monitor.yaml. */
export function describeView(v: HeartbeatView, verb: string): string {
  const out = [`${verb} heartbeat ${v.name}: ${v.schedule}, grace ${v.grace}${v.state === 'paused' ? ', paused' : ''}; state ${v.state}`];
  if (v.source === 'runtime') {
    out.push('It is not in monitor.yaml; to keep it there, add to blocks:', writeBack(v));
  } else if (v.differs.length > 0) {
    const diffs = v.differs.map((d) => `${d.key} ${d.runtime ?? '(none)'} (monitor.yaml: ${d.file ?? 'none'})`);
    out.push(`It differs from monitor.yaml until written back: ${diffs.join(', ')}. The block as it is now:`, writeBack(v));
  }
  return `${out.join('\n')}\n`;
}

/**
 * configCommand: `remon config NAME [--period D] [--grace D] [--schedule CRON] [--tz TZ]
 * [--max-runtime D] [--description T] [--enable|--disable]` creates or edits a heartbeat on
 * a running node (MEMon's `config`). The node journals the edit, so it survives restarts,
 * and shows it as differing from monitor.yaml until the file says the same.
 */
export async function configCommand(args: string[], io: CliIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const p = parseCommand('config', args, io, {
    period: { type: 'string' },
    grace: { type: 'string' },
    schedule: { type: 'string' },
    tz: { type: 'string' },
    'max-runtime': { type: 'string' },
    description: { type: 'string' },
    enable: { type: 'boolean' },
    disable: { type: 'boolean' },
    json: { type: 'boolean' },
  }, true);
  if (typeof p === 'number') return p;
  const { values, usage } = p;
  const name = heartbeatName(p);
  if (typeof name === 'number') return name;
  if (values.enable && values.disable) return usage('give --enable or --disable, not both');
  if (values.period !== undefined && values.schedule !== undefined) return usage('give --period (rolling) or --schedule (cron), not both');
  for (const key of ['period', 'grace', 'max-runtime'] as const) {
    const v = values[key];
    if (v === undefined) continue;
    const ms = parseDuration(v);
    if (ms === undefined) return usage(`--${key} must be a duration like 30s, 5m, 1h or 1d; got "${v}"`);
    if (ms === 0 && key !== 'grace') return usage(`--${key} must be longer than 0s`);
  }
  if (values.schedule !== undefined) {
    const why = cronProblem(values.schedule);
    if (why) return usage(`--schedule is not a cron expression (${why}); expected e.g. "0 3 * * *" or @daily`);
  }
  if (values.tz !== undefined) {
    const why = tzProblem(values.tz);
    if (why) return usage(`--tz: ${why}`);
  }
  const patch: Record<string, unknown> = {
    period: values.period,
    grace: values.grace,
    schedule: values.schedule,
    tz: values.tz,
    max_runtime: values['max-runtime'],
    description: values.description,
    paused: values.disable ? true : values.enable ? false : undefined,
  };
  for (const k of Object.keys(patch)) if (patch[k] === undefined) delete patch[k];
  if (Object.keys(patch).length === 0) return usage('nothing to change; give --period, --schedule, --grace, --tz, --max-runtime, --description, --enable or --disable');
  const remote = remoteOf(p, env);
  if (typeof remote === 'number') return remote;
  try {
    const a = await callOp(remote, heartbeatsConfigure, { ...patch, name });
    if (a.status !== 200 && a.status !== 201) {
      io.err(`remon config: ${failure(a)}\n`);
      return a.status === 400 ? 2 : 1;
    }
    io.out(values.json ? `${JSON.stringify(a.json, null, 2)}\n` : describeView(a.json as HeartbeatView, a.status === 201 ? 'created' : 'updated'));
    return 0;
  } catch (err) {
    io.err(`remon config: ${(err as Error).message}\n`);
    return 1;
  }
}
