import { createError } from '../errors';
import { defineOp, noParams } from '../ops/operation';
import type { JsonSchema } from './block';

const blockName: JsonSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 200, 'x-expected': 'a block name of letters, digits, _ and -' };
const byName: JsonSchema = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: blockName } };

/** nodeHealth: GET /healthz, 200 while the engine runs. */
export const nodeHealth = defineOp({
  name: 'node.health',
  summary: 'The node answers: its name and uptime.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/healthz' },
  handler: (_p, { node }) => ({ status: 'ok', node: node.config.node.name, uptime_s: Math.round((Date.now() - node.startedAt) / 1000) }),
});

/** nodeInfo: what this node is and runs. */
export const nodeInfo = defineOp({
  name: 'node.info',
  summary: 'Name, start time, store kind, shared backend and block count of the node.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/node' },
  handler: (_p, { node }) => ({
    name: node.config.node.name,
    startedAt: new Date(node.startedAt).toISOString(),
    uptime_s: Math.round((Date.now() - node.startedAt) / 1000),
    config: node.config.file,
    store: node.config.storage.kind,
    shared: node.config.shared.kind,
    blocks: node.status().length,
  }),
});

/** nodeReload: re-read monitor.yaml (as SIGHUP does); a file with errors is refused. */
export const nodeReload = defineOp({
  name: 'node.reload',
  summary: 'Re-read monitor.yaml: added blocks start, removed ones stop, changed ones restart; a file with errors is refused and the running config kept.',
  params: noParams,
  write: true,
  http: { method: 'POST', path: '/api/reload' },
  handler: (_p, { node }) => node.reload(),
});

/** blocksList: every block with its status, last run, last error and fields. */
export const blocksList = defineOp({
  name: 'blocks.list',
  summary: 'Every block: status, last run, last error, fields.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/blocks' },
  handler: (_p, { node }) => node.status().map(({ output: _output, ...rest }) => rest),
});

/** blocksGet: one block, with its last output. */
export const blocksGet = defineOp<{ name: string }, unknown>({
  name: 'blocks.get',
  summary: 'One block, with its last output.',
  params: byName,
  write: false,
  http: { method: 'GET', path: '/api/blocks/:name' },
  handler: ({ name }, { node }) => {
    const s = node.blockStatus(name);
    if (!s) throw createError('REMON_ERR_BLOCK_UNKNOWN', `no block is named "${name}"`);
    return s;
  },
});

/** blocksRun: run a block now (mode on-demand, or any block); 409 while it runs. */
export const blocksRun = defineOp<{ name: string }, unknown>({
  name: 'blocks.run',
  summary: 'Run a block now and answer its result.',
  params: byName,
  write: true,
  http: { method: 'POST', path: '/api/blocks/:name/run' },
  handler: ({ name }, { node }) => node.runNow(name),
});

/** schedulerStats: runs, missed ticks, lag quantiles. */
export const schedulerStats = defineOp({
  name: 'scheduler.stats',
  summary: 'Runs, missed ticks, errors, runs in flight and start-lag quantiles.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/scheduler' },
  handler: (_p, { node }) => node.schedulerStats(),
});

/** busStats: each bus subscriber's deliveries, failures and backlog. */
export const busStats = defineOp({
  name: 'bus.stats',
  summary: 'Messages published, and each subscriber: delivered, failures, dropped, pending, last error.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/bus' },
  handler: (_p, { node }) => node.busStats(),
});

/** engineOps are the engine's operations. */
export const engineOps = [nodeHealth, nodeInfo, nodeReload, blocksList, blocksGet, blocksRun, schedulerStats, busStats];
