import * as os from 'node:os';
import { alertsAck, alertsList } from '../alerts/ops';
import type { AlertView } from '../alerts/view';
import { parseCommand, remoteOf } from './args';
import type { CliIO } from './commands';
import { Answer, callOp, failure, Remote, relative } from './remote';
import { renderTable } from './table';

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 3)}...` : s);
const STATES = ['active', 'pending', 'firing', 'acknowledged', 'resolved', 'all'];

/** alertsTable renders alerts as `remon alerts` prints them. */
export function alertsTable(alerts: AlertView[], now: number): string {
  const rows = alerts.map((a) => {
    let note = a.message;
    if (a.state === 'acknowledged') note = `by ${a.acknowledgedBy ?? 'someone'}: ${note}`;
    if (a.suppressed) note = `(${a.suppressed}) ${note}`;
    return [a.id, a.sla, a.state, a.severity, a.level ? String(a.level) : '-', relative(a.since, now), cut(note, 100)];
  });
  return renderTable(['ALERT', 'SLA', 'STATE', 'SEVERITY', 'LEVEL', 'SINCE', 'MESSAGE'], rows);
}

/** exitOf is the exit code of a refused request: 2 for bad input (400), 1 otherwise. */
const exitOf = (a: Answer): number => (a.status === 400 ? 2 : 1);

async function list(remote: Remote, values: { state?: string; limit?: string; json?: boolean }, io: CliIO): Promise<number> {
  const state = values.state ?? 'active';
  const params: Record<string, unknown> = { limit: values.limit ?? '100' };
  if (state !== 'all') params.state = state;
  const a = await callOp(remote, alertsList, params);
  if (a.status !== 200) {
    io.err(`remon alerts: ${failure(a)}\n`);
    return exitOf(a);
  }
  const alerts = a.json as AlertView[];
  if (values.json) {
    io.out(`${JSON.stringify(alerts, null, 2)}\n`);
    return 0;
  }
  const none = state === 'all' ? '(no alerts)' : `(no ${state} alerts; --state all lists every alert the node keeps)`;
  io.out(`${alerts.length ? alertsTable(alerts, Date.now()) : none}\n`);
  return 0;
}

async function ack(remote: Remote, id: string, values: { by?: string; comment?: string; json?: boolean }, io: CliIO): Promise<number> {
  const by = values.by ?? `${os.userInfo().username}@${os.hostname()} (remon alerts ack)`;
  const a = await callOp(remote, alertsAck, { id, by: cut(by, 100), ...(values.comment !== undefined && { comment: values.comment }) });
  if (a.status !== 200) {
    io.err(`remon alerts ack: ${failure(a)}\n`);
    return exitOf(a);
  }
  const v = a.json as AlertView;
  io.out(values.json ? `${JSON.stringify(v, null, 2)}\n` : `alert ${v.id} (${v.sla}) acknowledged by ${v.acknowledgedBy}; its escalation stopped\n`);
  return 0;
}

/**
 * alertsCommand: `remon alerts [--state S] [--limit N] [--json]` lists a running node's
 * alerts (active ones by default); `remon alerts ack ID [--by NAME] [--comment TEXT]`
 * acknowledges one (POST /api/alerts/:id/ack, with the token). Exit 0 on success, 1 when
 * the node refused (unknown alert, not in a state to acknowledge) or could not be
 * reached, 2 on a usage error or values the node found invalid.
 */
export async function alertsCommand(args: string[], io: CliIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const p = parseCommand('alerts', args, io, {
    state: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    by: { type: 'string' },
    comment: { type: 'string' },
  }, true);
  if (typeof p === 'number') return p;
  const { values, positionals, usage } = p;
  const [sub, id, extra] = positionals;
  if (sub !== undefined && sub !== 'ack') return usage(`unknown sub-command "${sub}"; expected ack`);
  if (sub === 'ack') {
    if (id === undefined) return usage('missing the alert ID (remon alerts lists them)');
    if (extra !== undefined) return usage(`unexpected argument "${extra}"`);
    if (values.state !== undefined || values.limit !== undefined) return usage('--state and --limit are for listing, not for ack');
  } else {
    if (values.by !== undefined || values.comment !== undefined) return usage('--by and --comment are for ack');
    if (values.state !== undefined && !STATES.includes(values.state)) return usage(`--state must be one of ${STATES.join(', ')}; got "${values.state}"`);
    if (values.limit !== undefined && !/^[1-9]\d{0,3}$|^10000$/.test(values.limit)) return usage(`--limit must be a number from 1 to 10000; got "${values.limit}"`);
  }
  const remote = remoteOf(p, env);
  if (typeof remote === 'number') return remote;
  try {
    return sub === 'ack' ? await ack(remote, id!, values, io) : await list(remote, values, io);
  } catch (err) {
    io.err(`remon alerts: ${(err as Error).message}\n`);
    return 1;
  }
}
