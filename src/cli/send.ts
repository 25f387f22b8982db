import { heartbeatName, parseCommand, remoteOf } from './args';
import { BODY_LIMIT, RID_PATTERN } from '../heartbeat/types';
import type { CliIO } from './commands';
import { call, failure } from './remote';

/** readStdin keeps the first BODY_LIMIT bytes of standard input (a job's log piped in). */
async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const c of stdin as AsyncIterable<Buffer>) {
    if (kept >= BODY_LIMIT) continue;
    const part = c.subarray(0, BODY_LIMIT - kept);
    chunks.push(part);
    kept += part.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * sendCommand: `remon send NAME [--start|--fail|--exit-code N] [--message TEXT] [--rid ID]`
 * signals a heartbeat of a running node. Exit 0 when the node accepted it (it is durable
 * then), 1 when the node refused it or could not be reached, 2 on a usage error.
 */
export async function sendCommand(args: string[], io: CliIO, env: NodeJS.ProcessEnv = process.env, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const p = parseCommand('send', args, io, {
    start: { type: 'boolean' },
    fail: { type: 'boolean' },
    'exit-code': { type: 'string' },
    message: { type: 'string', short: 'm' },
    rid: { type: 'string' },
  }, true);
  if (typeof p === 'number') return p;
  const { values, usage } = p;
  const name = heartbeatName(p);
  if (typeof name === 'number') return name;
  const kinds = [values.start && '--start', values.fail && '--fail', values['exit-code'] !== undefined && '--exit-code'].filter(Boolean);
  if (kinds.length > 1) return usage(`give one of ${kinds.join(', ')}, not several`);
  let action = '';
  if (values.start) action = '/start';
  else if (values.fail) action = '/fail';
  else if (values['exit-code'] !== undefined) {
    const code = values['exit-code'];
    if (!/^\d{1,3}$/.test(code) || Number(code) > 255) return usage(`exit codes are 0-255; got ${code}`);
    action = `/${Number(code)}`;
  }
  if (values.rid !== undefined && !RID_PATTERN.test(values.rid)) return usage('--rid must be 1-64 letters, digits and _ . : -');
  const remote = remoteOf(p, env);
  if (typeof remote === 'number') return remote;
  const message = values.message === '-' ? await readStdin(stdin) : values.message;
  const query = values.rid !== undefined ? `?rid=${encodeURIComponent(values.rid)}` : '';
  try {
    const a = await call(remote, 'POST', `/hb/${name}${action}${query}`, message ? { text: message, type: 'text/plain; charset=utf-8' } : undefined);
    if (a.status !== 200) {
      io.err(`remon send: ${failure(a)}\n`);
      return a.status === 400 ? 2 : 1;
    }
    io.out(`${name}: signal accepted; state ${a.json.state}\n`);
    return 0;
  } catch (err) {
    io.err(`remon send: ${(err as Error).message}\n`);
    return 1;
  }
}
