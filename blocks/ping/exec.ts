import { spawn } from 'node:child_process';
import { Family } from './icmp';

/**
 * The fallback when the process may not open raw ICMP sockets: the system `ping`
 * (iputils-ping, which has the capability or uses the kernel's ping sockets) once per
 * run, its output parsed. Costs a process per run; the raw socket path does not.
 */

/** PingTally is what one run measured, whichever way it pinged. */
export interface PingTally {
  sent: number;
  received: number;
  /** Round-trip times in ms, when the way of pinging gives them one by one. */
  rtts?: number[];
  /** min/avg/max/mdev in ms, when the way of pinging summarises them itself. */
  rtt?: { min: number; avg: number; max: number; mdev: number };
  /** Why packets were lost, when something said so (an ICMP error), one entry per packet. */
  reasons: string[];
  /** A failure of the pinging itself (not of the target), e.g. ping could not run. */
  error?: string;
}

export interface ExecOptions {
  address: string;
  family: Family;
  count: number;
  intervalMs: number;
  size: number;
  waitMs: number;
  /** ping is interrupted (and reports what it has) this long after it starts. */
  deadlineMs: number;
  signal: AbortSignal;
  /** The program, `ping` from PATH by default. */
  program?: string;
}

const seconds = (ms: number): string => String(Math.max(ms, 1) / 1000);

/** pingArgs is the iputils-ping command line for one run. */
export function pingArgs(o: Omit<ExecOptions, 'signal' | 'program' | 'deadlineMs'>): string[] {
  // No -w: with it, ping keeps sending past -c until that many replies came back.
  return [`-${o.family}`, '-n', '-c', String(o.count), '-i', seconds(o.intervalMs), '-s', String(o.size), '-W', seconds(o.waitMs), o.address];
}

/** execPing runs the system ping once and parses what it printed. */
export function execPing(o: ExecOptions): Promise<PingTally> {
  return new Promise((resolve) => {
    const program = o.program ?? 'ping';
    const child = spawn(program, pingArgs(o), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    // SIGINT makes ping print its statistics for what it sent so far, then exit.
    const deadline = setTimeout(() => child.kill('SIGINT'), o.deadlineMs);
    const onAbort = (): void => { child.kill('SIGKILL'); };
    o.signal.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (t: PingTally): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      o.signal.removeEventListener('abort', onAbort);
      resolve(t);
    };
    child.on('error', (e) => finish({ sent: 0, received: 0, reasons: [], error: `cannot run ${program}: ${e.message}` }));
    child.on('close', (code) => {
      const t = parsePingOutput(out);
      if (t.sent === 0 && code !== 0 && code !== 1) {
        const why = err.trim().split('\n')[0] || `exit code ${code}`;
        return finish({ ...t, error: `${program} failed: ${why}` });
      }
      finish(t);
    });
  });
}

const TRANSMITTED = /^(\d+) packets transmitted, (\d+) (?:packets )?received/m;
const SUMMARY = /^(?:rtt|round-trip) min\/avg\/max\/(?:mdev|stddev) = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/m;
const ERROR_LINE = /^From (\S+?):? (?:icmp_seq=\d+ )?(.+)$/gm;

/**
 * parsePingOutput reads iputils-ping's output (LC_ALL=C): the statistics line, the rtt
 * summary, and "From ADDR icmp_seq=N Destination Host Unreachable" lines for the reasons.
 */
export function parsePingOutput(out: string): PingTally {
  const t = TRANSMITTED.exec(out);
  const tally: PingTally = { sent: t ? Number(t[1]) : 0, received: t ? Number(t[2]) : 0, reasons: [] };
  const s = SUMMARY.exec(out);
  if (s && tally.received > 0) tally.rtt = { min: Number(s[1]), avg: Number(s[2]), max: Number(s[3]), mdev: Number(s[4]) };
  for (const m of out.matchAll(ERROR_LINE)) tally.reasons.push(`${m[2].trim().toLowerCase()} (from ${m[1]})`);
  return tally;
}
