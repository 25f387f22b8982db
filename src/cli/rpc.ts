import { parseCommand, remoteOf } from './args';
import type { CliIO } from './commands';
import type { RemonError } from '../errors';
import { RpcClient, rpcCodeOfError } from '../rpc/client';

/** readAll reads standard input (params given as `-`), at most 256 kB. */
async function readAll(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stdin as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 256 * 1024) throw new Error('params on standard input are larger than 256 kB');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** USAGE_CODES: JSON-RPC errors that say the call itself was wrong (exit 2): not JSON, not a request, no such method, bad params. */
const USAGE_CODES = new Set([-32700, -32600, -32601, -32602]);

/**
 * rpcCommand: `remon rpc METHOD [JSON]` calls a JSON-RPC method of a running node (POST
 * /rpc) with params given as a JSON object (`-` reads them from standard input), and
 * prints the result as JSON (through the typed client, src/rpc/client.ts). Exit 0 on a result; 2 on a usage error or an error that says
 * the call was wrong (unknown method, invalid params); 1 for other errors (refused, not
 * found, unavailable) and an unreachable node.
 */
export async function rpcCommand(args: string[], io: CliIO, env: NodeJS.ProcessEnv = process.env, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const p = parseCommand('rpc', args, io, { compact: { type: 'boolean' } }, true);
  if (typeof p === 'number') return p;
  const { values, positionals, usage } = p;
  const [method, json, extra] = positionals;
  if (method === undefined) return usage('missing the METHOD (an operation name such as node.info or state.get)');
  if (extra !== undefined) return usage(`unexpected argument "${extra}"; give params as one JSON object, quoted`);
  if (!/^[a-z][a-z0-9]*(?:\.[a-z][a-zA-Z0-9]*)+$/.test(method)) return usage(`"${method}" is not a method name (area.verb, e.g. node.info)`);
  let params: unknown = {};
  if (json !== undefined) {
    let text = json;
    try {
      if (json === '-') text = await readAll(stdin);
      params = JSON.parse(text);
    } catch (err) {
      return usage(`params must be a JSON object, e.g. '{"name": "web"}': ${(err as Error).message}`);
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return usage(`params must be a JSON object, e.g. '{"name": "web"}'; got ${text.slice(0, 100)}`);
  }
  const remote = remoteOf(p, env);
  if (typeof remote === 'number') return remote;
  try {
    const result = await new RpcClient(remote).call(method, params as Record<string, unknown>);
    io.out(`${JSON.stringify(result, null, values.compact ? undefined : 2)}\n`);
    return 0;
  } catch (err) {
    const e = err as RemonError;
    if (e.code === 'REMON_ERR_RPC_UNREACHABLE') {
      io.err(`remon rpc: ${e.message} (set --url or REMON_URL)\n`);
      return 1;
    }
    const rpc = rpcCodeOfError(e);
    if (rpc === undefined || e.code === 'REMON_ERR_RPC_REMOTE') {
      io.err(`remon rpc: ${e.message}\n`);
      return 1;
    }
    const hint = e.code === 'REMON_ERR_OP_UNAUTHORIZED' ? ' (give the node\'s token with --token or REMON_TOKEN)' : '';
    io.err(`remon rpc: ${method}: ${e.message}${hint} (${rpc} ${e.code})\n`);
    return USAGE_CODES.has(rpc) ? 2 : 1;
  }
}
