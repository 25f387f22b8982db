import * as os from 'node:os';
import type { JsonSchema } from '../engine/block';
import { blockName } from '../config/schema';
import type { CheckContext, ConfigSection, SectionIssue } from '../config/section';
import { parseDuration } from '../util/duration';

/** PeerConfig is one built `peers:` entry: another node this one reads (federation) and hears (from: quorum). */
export interface PeerConfig {
  name: string;
  /** Its base URL, http(s)://HOST:PORT. */
  url: string;
  /** Its node.token, sent as Authorization: Bearer (${VAR} expands like node.token). */
  token?: string;
  /** How often its blocks, SLAs and alerts are read (default 10 s). */
  everyMs: number;
  /** How long one read may take before the peer counts as down (default 5 s). */
  timeoutMs: number;
}

declare module '../config/types' {
  interface Config {
    /** `peers:` other nodes (src/peers), by name order; empty when absent. */
    peers: PeerConfig[];
  }
}

interface RawPeer {
  url: string;
  token?: string;
  every?: string;
  timeout?: string;
}

/** DEFAULT_PEER_EVERY_MS and DEFAULT_PEER_TIMEOUT_MS: a peer's read interval and timeout. */
export const DEFAULT_PEER_EVERY_MS = 10_000;
export const DEFAULT_PEER_TIMEOUT_MS = 5_000;

const peerSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  'x-expected': 'a peer { url: http://HOST:PORT, token: ${VAR} }',
  properties: {
    url: { type: 'string', pattern: '^https?://[^/?#\\s]+/?$', 'x-expected': 'the peer\'s base URL, http://HOST:PORT (no path)', description: 'The peer node\'s base URL.' },
    token: { type: 'string', minLength: 1, description: 'The peer\'s node.token (sent as Authorization: Bearer); ${VAR} expands an environment variable.' },
    every: { $ref: '#/definitions/duration', description: 'How often the peer\'s blocks, SLAs and alerts are read (default 10s).' },
    timeout: { $ref: '#/definitions/duration', description: 'How long a read may take before the peer counts as down (default 5s).' },
  },
};

/** quorumSeries lists the series a block with `from:` makes on each node it lists (docs/federation.md). */
export function quorumSeries(block: string, from: readonly string[]): string[] {
  return [`${block}.locations`, `${block}.locations_up`, `${block}.locations_down`, ...from.map((n) => `${block}.loc.${n}.up`)];
}

/** nodeNameOf is the node's name as the raw document gives it (default: the host name). */
function nodeNameOf(raw: Readonly<Record<string, unknown>>): string {
  const n = (raw.node as Record<string, unknown> | undefined)?.name;
  return typeof n === 'string' ? n : os.hostname();
}

/**
 * check: each peer's name is a node name and not this node's; and the quorum series of
 * every block with `from:` go into the catalog, so SLAs and derived series can read them.
 */
function check(raw: unknown, ctx: CheckContext): SectionIssue[] {
  const issues: SectionIssue[] = [];
  const blocks = Array.isArray(ctx.raw.blocks) ? ctx.raw.blocks : [];
  for (const b of blocks as Array<Record<string, unknown> | null>) {
    if (typeof b?.name === 'string' && Array.isArray(b.from)) for (const s of quorumSeries(b.name, b.from.filter((n): n is string => typeof n === 'string'))) ctx.catalog.add(s);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return issues;
  const self = nodeNameOf(ctx.raw);
  const pattern = new RegExp(String(blockName.pattern));
  for (const name of Object.keys(raw)) {
    if (!pattern.test(name)) issues.push({ path: ['peers', name], message: `"${name.slice(0, 50)}" is not a node name; expected letters, digits, _ and -` });
    else if (name === self) issues.push({ path: ['peers', name], message: `"${name}" is this node's own name (node.name); list the other nodes` });
  }
  return issues;
}

/**
 * peersSection is `peers:`: the other nodes this one shows (their blocks, SLAs and alerts,
 * labelled by node) and hears for `from:` quorum blocks (docs/federation.md). It runs after
 * `blocks`, and adds each `from:` block's quorum series to the catalog.
 */
export const peersSection: ConfigSection<'peers', Record<string, RawPeer>> = {
  key: 'peers',
  reload: 'restart',
  after: ['blocks'],
  schema: { type: 'object', additionalProperties: peerSchema, 'x-expected': 'a mapping of peer names to { url, token }', description: 'Other remon nodes, by name.' },
  check,
  build: (raw) => Object.entries(raw ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, p]) => ({
    name,
    url: p.url.replace(/\/+$/, ''),
    ...(p.token !== undefined && { token: p.token }),
    everyMs: (p.every ? parseDuration(p.every) : undefined) ?? DEFAULT_PEER_EVERY_MS,
    timeoutMs: (p.timeout ? parseDuration(p.timeout) : undefined) ?? DEFAULT_PEER_TIMEOUT_MS,
  })),
};
