import { parseCommand, remoteOf } from './args';
import type { BlockStatus } from '../engine/state';
import type { HeartbeatView } from '../heartbeat/types';
import type { CliIO } from './commands';
import { blocksList } from '../engine/ops';
import { heartbeatsList } from '../heartbeat/ops';
import { slasList } from '../sla/ops';
import type { SlaView } from '../sla/ops';
import { alertsList } from '../alerts/ops';
import type { AlertView } from '../alerts/view';
import { alertsTable } from './alerts';
import { Answer, callOp, failure, relative } from './remote';
import { formatNumber, renderTable } from './table';

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

function blocksTable(blocks: BlockStatus[], now: number): string {
  const rows = blocks.map((b) => [
    b.name,
    b.type,
    b.status,
    relative(b.lastRun, now),
    Object.entries(b.fields).filter(([k]) => k !== 'up').map(([k, v]) => `${k}=${formatNumber(v)}`).join(' '),
    cut(b.lastError, 80),
  ]);
  return renderTable(['BLOCK', 'TYPE', 'STATUS', 'LAST RUN', 'FIELDS', 'ERROR'], rows);
}

function heartbeatsTable(hbs: HeartbeatView[], now: number): string {
  const rows = hbs.map((h) => {
    let note = '';
    if (h.source === 'runtime') note = 'created at run time, not in monitor.yaml';
    else if (h.differs.length) note = `differs from monitor.yaml: ${h.differs.map((d) => `${d.key} ${d.runtime ?? '(none)'} (file ${d.file ?? 'none'})`).join(', ')}`;
    return [
      h.name,
      h.state,
      h.schedule,
      h.grace,
      relative(h.lastSuccess, now),
      h.state === 'down' ? `since ${relative(h.downSince, now)}` : relative(h.nextDeadline, now),
      String(h.errorCount),
      note,
    ];
  });
  return renderTable(['HEARTBEAT', 'STATE', 'SCHEDULE', 'GRACE', 'LAST SUCCESS', 'NEXT DEADLINE', 'ERRORS', 'NOTE'], rows);
}

function slasTable(slas: SlaView[], now: number): string {
  const rows = slas.map((s) => [s.name, s.state, relative(s.since, now), s.severity, cut(s.message, 100)]);
  return renderTable(['SLA', 'STATE', 'SINCE', 'SEVERITY', 'MESSAGE'], rows);
}

/**
 * statusCommand: `remon status` prints the blocks, heartbeats, SLAs and active alerts of a
 * running node as tables (--json: as JSON). A node without the SLA or alerts subsystem
 * answers /api/slas or /api/alerts with 404; it prints the rest.
 */
export async function statusCommand(args: string[], io: CliIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const p = parseCommand('status', args, io, { json: { type: 'boolean' } }, false);
  if (typeof p === 'number') return p;
  const { values } = p;
  const remote = remoteOf(p, env);
  if (typeof remote === 'number') return remote;
  let answers: Answer[];
  try {
    answers = await Promise.all([callOp(remote, blocksList), callOp(remote, heartbeatsList), callOp(remote, alertsList, { state: 'active' }), callOp(remote, slasList)]);
  } catch (err) {
    io.err(`remon status: ${(err as Error).message}\n`);
    return 1;
  }
  const [blocks, heartbeats, alerts, slas] = answers;
  for (const a of [blocks, heartbeats]) {
    if (a.status !== 200) {
      io.err(`remon status: ${failure(a)}\n`);
      return 1;
    }
  }
  const hasAlerts = alerts.status === 200 && Array.isArray(alerts.json);
  const hasSlas = slas.status === 200 && Array.isArray(slas.json);
  const slaList = hasSlas ? (slas.json as SlaView[]) : [];
  if (values.json) {
    io.out(`${JSON.stringify({ blocks: blocks.json, heartbeats: heartbeats.json, ...(hasSlas && { slas: slaList }), ...(hasAlerts && { alerts: alerts.json }) }, null, 2)}\n`);
    return 0;
  }
  const now = Date.now();
  const bs = (blocks.json as BlockStatus[]).filter((b) => b.type !== 'heartbeat');
  const hbs = heartbeats.json as HeartbeatView[];
  const parts = [`node ${remote.url}`, '', bs.length ? blocksTable(bs, now) : '(no blocks besides heartbeats)', '',
    hbs.length ? heartbeatsTable(hbs, now) : '(no heartbeats)'];
  if (hasSlas) parts.push('', slaList.length ? slasTable(slaList, now) : '(no SLAs)');
  if (hasAlerts) {
    const list = alerts.json as AlertView[];
    parts.push('', list.length ? alertsTable(list, now) : '(no active alerts)');
  }
  io.out(`${parts.join('\n')}\n`);
  return 0;
}
