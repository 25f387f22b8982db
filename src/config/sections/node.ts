import * as os from 'node:os';
import * as path from 'node:path';
import { isLoopback } from '../../util/url';
import { DEFAULT_LISTEN, parseListen } from '../build';
import { blockName } from '../schema';
import type { ConfigSection, SectionIssue } from '../section';

/** NodeRaw is `node:` after validation, before defaults. */
export interface NodeRaw {
  name?: string;
  listen?: string;
  data?: string;
  token?: string;
  block_dirs?: string[];
  max_concurrency?: number;
  log_level?: string;
  auto_create?: boolean;
}

/** nodeSection is `node:`: the node's name, address, data directory and token. */
export const nodeSection: ConfigSection<'node', NodeRaw> = {
  key: 'node',
  reload: 'restart',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { ...blockName, description: 'Node name (default: hostname).' },
      listen: {
        type: 'string',
        pattern: '^(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]*):\\d{1,5}$',
        'x-expected': 'host:port, e.g. 127.0.0.1:2001',
        description: 'Address of the web UI (the dashboard and drop-in pages), the HTTP API, JSON-RPC (/rpc), the heartbeat endpoints and /metrics (default 127.0.0.1:2001).',
      },
      data: { type: 'string', minLength: 1, description: 'Directory of all persistent state (default ./data).' },
      token: { type: 'string', description: 'Bearer token for writes (POST, other than heartbeat signals); RPC will take it too.' },
      block_dirs: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description: 'Directories of user block types, each a folder <type>/index.js.',
      },
      max_concurrency: { type: 'integer', minimum: 1, maximum: 100000, description: 'Runs in flight at most (default 500).' },
      log_level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] },
      auto_create: {
        type: 'boolean',
        'x-expected': 'true or false',
        description: 'Create a heartbeat (period 1d, grace 1h) on the first signal to an unknown name (default false).',
      },
    },
  },
  check(raw) {
    const issues: SectionIssue[] = [];
    const n = (raw ?? {}) as Record<string, unknown>;
    if (typeof n.listen !== 'string') return issues;
    const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(n.listen);
    if (!m) return issues;
    const host = m[1] ?? m[2];
    const port = Number(m[3]);
    if (port < 1 || port > 65535) issues.push({ path: ['node', 'listen'], message: `port ${port} is out of range; expected 1-65535` });
    const token = typeof n.token === 'string' ? n.token : '';
    if (host !== '' && !isLoopback(host) && token === '') {
      issues.push({ path: ['node', 'listen'], message: `${host} is not a loopback address; set node.token to serve other machines, or listen on 127.0.0.1` });
    }
    return issues;
  },
  build(raw, ctx) {
    const n = raw ?? {};
    return {
      name: n.name ?? os.hostname(),
      listen: parseListen(n.listen ?? DEFAULT_LISTEN),
      data: path.resolve(ctx.dir, n.data ?? './data'),
      token: n.token ? n.token : undefined,
      blockDirs: (n.block_dirs ?? []).map((d) => path.resolve(ctx.dir, d)),
      maxConcurrency: n.max_concurrency ?? 500,
      logLevel: n.log_level ?? 'info',
      autoCreate: n.auto_create === true,
    };
  },
};
