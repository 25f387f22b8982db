import { BlockType } from '../engine/block';
import { parseDuration } from '../util/duration';
import { suggest } from './messages';
import { influxStorageProperties } from './schema';
import { compileSteps, runTargets, StepIssue } from './steps';
import { Step } from './types';

/** SemanticResult: problems JSON Schema cannot express, and the compiled pipes by block index. */
export interface SemanticResult {
  issues: StepIssue[];
  pipes: Map<number, Step[]>;
}

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|::1|localhost)$/i;

/** isLoopback tells whether a listen host only accepts local connections. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * checkSemantics runs the checks that need the whole config: unique block names, every
 * and timeout longer than zero, pipe
 * steps (one action each, expressions that parse, run targets that exist and do not
 * loop), the listen address and each block type's own check. It is defensive about
 * shapes, because it also runs when schema validation failed, so that every problem is
 * reported at once. Blocks in `badBlocks` failed their schema and skip their type check.
 */
export function checkSemantics(raw: unknown, types: ReadonlyMap<string, BlockType>, badBlocks: ReadonlySet<number>): SemanticResult {
  const issues: StepIssue[] = [];
  const pipes = new Map<number, Step[]>();
  const cfg = (raw ?? {}) as Record<string, unknown>;
  checkListen(cfg.node, issues);
  checkStorage(cfg.storage, issues);
  checkShared(cfg.shared, issues);

  const blocks = Array.isArray(cfg.blocks) ? cfg.blocks : [];
  const firstByName = new Map<string, number>();
  blocks.forEach((b, i) => {
    if (typeof b !== 'object' || b === null) return;
    const block = b as Record<string, unknown>;
    if (typeof block.name === 'string') {
      const first = firstByName.get(block.name);
      if (first === undefined) firstByName.set(block.name, i);
      else issues.push({ path: ['blocks', i, 'name'], message: `duplicate block name "${block.name}"; blocks[${first}] has it already` });
    }
    pipes.set(i, compileSteps(block.pipe, ['blocks', i, 'pipe'], issues));
    for (const key of ['every', 'timeout'] as const) {
      const v = block[key];
      if (typeof v === 'string' && parseDuration(v) === 0) issues.push({ path: ['blocks', i, key], message: `must be longer than 0s; got "${v}"` });
    }
    if ((block.mode === 'once' || block.mode === 'on-demand') && block.every !== undefined) {
      issues.push({ path: ['blocks', i, 'every'], message: `"every" has no effect with mode: ${block.mode}; remove it or use mode: interval` });
    }
    const type = typeof block.type === 'string' ? types.get(block.type) : undefined;
    if (type?.passive && block.mode !== undefined) {
      issues.push({ path: ['blocks', i, 'mode'], message: `a ${type.type} block is signalled, not scheduled; remove mode` });
    }
    if (type?.check && !badBlocks.has(i)) {
      // A numeric segment is a list index (walk.0.columns), so it locates the item.
      for (const [key, message] of type.check(block)) {
        issues.push({ path: ['blocks', i, ...key.split('.').filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s))], message });
      }
    }
  });

  // run: targets must exist, and the feed graph must not loop.
  const edges = new Map<string, Array<{ block: string; path: Array<string | number> }>>();
  blocks.forEach((b, i) => {
    const block = (b ?? {}) as Record<string, unknown>;
    if (typeof block.name !== 'string') return;
    const targets = runTargets(block.pipe, ['blocks', i, 'pipe']);
    for (const t of targets) {
      if (!firstByName.has(t.block)) issues.push({ path: t.path, message: unknownBlock(t.block, [...firstByName.keys()]) });
      else if (t.block === block.name) issues.push({ path: t.path, message: `a block cannot run itself; name another block` });
    }
    edges.set(block.name, targets.filter((t) => firstByName.has(t.block) && t.block !== block.name));
  });
  for (const cycle of findCycles(edges)) issues.push({ path: cycle.path, message: `run steps form a loop: ${cycle.names.join(' → ')}` });
  return { issues, pipes };
}

function unknownBlock(name: string, names: string[]): string {
  const near = suggest(name, names);
  return `no block is named "${name}"; ${near ? `did you mean "${near}"?` : `expected one of: ${names.join(', ')}`}`;
}

function checkListen(node: unknown, issues: StepIssue[]): void {
  const n = (node ?? {}) as Record<string, unknown>;
  if (typeof n.listen !== 'string') return;
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(n.listen);
  if (!m) return;
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port < 1 || port > 65535) issues.push({ path: ['node', 'listen'], message: `port ${port} is out of range; expected 1-65535` });
  const token = typeof n.token === 'string' ? n.token : '';
  if (host !== '' && !isLoopback(host) && token === '') {
    issues.push({ path: ['node', 'listen'], message: `${host} is not a loopback address; set node.token to serve other machines, or listen on 127.0.0.1` });
  }
}

/** checkShared flags keys that have no effect with the chosen backend. */
function checkShared(shared: unknown, issues: StepIssue[]): void {
  if (typeof shared !== 'object' || shared === null) return;
  const s = shared as Record<string, unknown>;
  const kind = s.kind ?? 'memory';
  if (kind === 'memory') {
    for (const key of ['url', 'prefix']) {
      if (s[key] !== undefined) issues.push({ path: ['shared', key], message: `"${key}" has no effect with kind: memory; remove it or set kind: redis` });
    }
  } else if (kind === 'redis' && s.persistent_buckets !== undefined) {
    issues.push({ path: ['shared', 'persistent_buckets'], message: 'with kind: redis every bucket lives in Redis and persists as Redis does; remove persistent_buckets' });
  }
}

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** checkStorage: influx keys only with kind: influx, label names usable in PromQL, no zero flush_interval. */
function checkStorage(storage: unknown, issues: StepIssue[]): void {
  if (typeof storage !== 'object' || storage === null || Array.isArray(storage)) return;
  const s = storage as Record<string, unknown>;
  const kind = s.kind ?? 'rrd';
  if (kind !== 'influx') {
    for (const key of Object.keys(influxStorageProperties)) {
      if (s[key] !== undefined) issues.push({ path: ['storage', key], message: `"${key}" is only used with kind: influx; add kind: influx or remove it` });
    }
    return;
  }
  if (s.retention !== undefined) {
    issues.push({ path: ['storage', 'retention'], message: 'has no effect with kind: influx (the server keeps data by its own retention); remove it' });
  }
  if (typeof s.flush_interval === 'string' && parseDuration(s.flush_interval) === 0) {
    issues.push({ path: ['storage', 'flush_interval'], message: `must be longer than 0s; got "${s.flush_interval}"` });
  }
  if (typeof s.labels === 'object' && s.labels !== null) {
    for (const name of Object.keys(s.labels)) {
      if (name === 'node') issues.push({ path: ['storage', 'labels', name], message: 'remon sets the node label from node.name; choose another name' });
      else if (!LABEL_NAME.test(name)) issues.push({ path: ['storage', 'labels', name], message: `label name "${name}" must be letters, digits and _, not starting with a digit` });
    }
  }
}

function findCycles(edges: Map<string, Array<{ block: string; path: Array<string | number> }>>) {
  const out: Array<{ names: string[]; path: Array<string | number> }> = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'active');
    stack.push(name);
    for (const e of edges.get(name) ?? []) {
      const s = state.get(e.block);
      if (s === 'active') out.push({ names: [...stack.slice(stack.indexOf(e.block)), e.block], path: e.path });
      else if (s === undefined) visit(e.block);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of edges.keys()) if (!state.has(name)) visit(name);
  return out;
}
