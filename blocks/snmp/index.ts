import * as snmp from 'net-snmp';
import { DEFAULT_EVERY_MS, DEFAULT_TIMEOUT_MS } from '../../src/config/build';
import { BlockInstance, BlockType, durationSchema, JsonSchema, RunContext, RunOutput } from '../../src/engine/block';
import { FieldKind } from '../../src/engine/result';
import { formatDuration, parseDuration } from '../../src/util/duration';
import { ClientOptions, SnmpClient, SnmpError, SnmpVersion } from './client';
import { compareOids, resolveColumnOid, resolveGetOid, resolveTableOid } from './oids';

/** WalkOptions: one table of `walk:`. */
export interface WalkOptions {
  table: string;
  columns: Record<string, string | number>;
  label?: string | number;
  include?: string;
}

/** SnmpOptions: the block's keys in monitor.yaml (see README.md). */
export interface SnmpOptions {
  name: string;
  every?: string;
  timeout?: string;
  host: string;
  port?: number;
  version?: SnmpVersion;
  community?: string;
  user?: string;
  auth_protocol?: string;
  auth_key?: string;
  priv_protocol?: string;
  priv_key?: string;
  context?: string;
  request_timeout?: string;
  retries?: number;
  max_repetitions?: number;
  get?: Record<string, string>;
  walk?: WalkOptions[];
}

export const DEFAULT_RETRIES = 1;
export const MAX_REQUEST_TIMEOUT_MS = 1000;
export const DEFAULT_MAX_REPETITIONS = 20;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** runTimeoutMs is the run's timeout as the engine computes it (the common `timeout` key). */
function runTimeoutMs(o: Pick<SnmpOptions, 'every' | 'timeout'>): number {
  const every = (o.every && parseDuration(o.every)) || DEFAULT_EVERY_MS;
  return (o.timeout && parseDuration(o.timeout)) || Math.min(DEFAULT_TIMEOUT_MS, every);
}

/**
 * requestTimeoutMs: request_timeout, or by default what lets every try of a request end
 * before the run's timeout (at most 1s, like snmpget's default).
 */
export function requestTimeoutMs(o: SnmpOptions): number {
  if (o.request_timeout) return parseDuration(o.request_timeout)!;
  const tries = (o.retries ?? DEFAULT_RETRIES) + 1;
  const run = runTimeoutMs(o);
  const budget = run - Math.min(250, Math.max(10, run * 0.05));
  return Math.max(10, Math.min(MAX_REQUEST_TIMEOUT_MS, Math.floor(budget / tries)));
}

/** Number is a varbind's value as a number, and how the store should treat it. */
type Numeric = { value: number; kind: FieldKind } | { why: string };

/** SMIv2 names of the value types, as snmpget prints them (net-snmp's own say Counter, Gauge). */
const TYPE_NAMES: Record<number, string> = {
  1: 'Boolean', 2: 'Integer32', 4: 'OctetString', 5: 'Null', 6: 'OID', 64: 'IpAddress', 65: 'Counter32', 66: 'Gauge32',
  67: 'TimeTicks', 68: 'Opaque', 70: 'Counter64', 128: 'noSuchObject', 129: 'noSuchInstance', 130: 'endOfMibView',
};

function typeName(type: number | undefined): string {
  return TYPE_NAMES[type ?? -1] ?? `type ${type}`;
}

function counter64(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  let n = 0n;
  for (const b of v as Buffer) n = (n << 8n) | BigInt(b);
  return Number(n);
}

const DECIMAL = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

function textOf(v: unknown): string {
  return Buffer.isBuffer(v) ? v.toString('utf8').replace(/\0+$/, '') : String(v);
}

/**
 * numeric turns a varbind into a number: counters as 'counter' (the store makes rates of
 * them), integers, gauges and timeticks (hundredths of a second) as 'gauge', booleans as
 * 1/0, and text that is a decimal number (UCD's laLoad "0.52") as a gauge.
 */
export function numeric(vb: snmp.Varbind): Numeric {
  const T = snmp.ObjectType;
  switch (vb.type) {
    case T.Counter:
      return { value: Number(vb.value), kind: 'counter' };
    case T.Counter64:
      return { value: counter64(vb.value), kind: 'counter' };
    case T.Integer:
    case T.Gauge:
    case T.TimeTicks:
      return { value: Number(vb.value), kind: 'gauge' };
    case T.Boolean:
      return { value: vb.value ? 1 : 0, kind: 'gauge' };
    case T.OctetString: {
      const text = textOf(vb.value);
      if (DECIMAL.test(text)) return { value: Number(text), kind: 'gauge' };
      return { why: `not a number: OctetString ${JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text)}` };
    }
    default:
      return { why: `not a number: ${typeName(vb.type)}${vb.value === undefined || vb.value === null ? '' : ` ${JSON.stringify(textOf(vb.value)).slice(0, 40)}`}` };
  }
}

/** sanitize makes a row label usable in a series name: A-Z a-z 0-9 _, others become _. */
export function sanitize(label: string): string {
  return label.replace(/[^A-Za-z0-9_]/g, '_');
}

interface CompiledWalk {
  text: string;
  tableOid: string;
  labelOid?: string;
  columns: Array<{ field: string; oid: string }>;
  include?: RegExp;
}

interface Compiled {
  gets: Array<{ field: string; oid: string }>;
  walks: CompiledWalk[];
}

/** compile resolves every name to a numeric OID; problems come back as [option path, message]. */
function compile(o: SnmpOptions): { compiled: Compiled; problems: Array<[string, string]> } {
  const problems: Array<[string, string]> = [];
  const gets: Compiled['gets'] = [];
  for (const [field, text] of Object.entries(o.get ?? {})) {
    if (!FIELD_NAME.test(field)) problems.push(['get', `field name ${JSON.stringify(field)} must be letters, digits and _ (not starting with a digit)`]);
    try {
      gets.push({ field, oid: resolveGetOid(text) });
    } catch (err) {
      problems.push([`get.${field}`, (err as Error).message]);
    }
  }
  const walks: CompiledWalk[] = [];
  const seen = new Map<string, number>();
  (o.walk ?? []).forEach((w, i) => {
    let tableOid: string;
    try {
      tableOid = resolveTableOid(w.table);
    } catch (err) {
      problems.push([`walk.${i}.table`, (err as Error).message]);
      return;
    }
    const columns: CompiledWalk['columns'] = [];
    for (const [field, col] of Object.entries(w.columns ?? {})) {
      if (!FIELD_NAME.test(field)) problems.push([`walk.${i}.columns`, `field name ${JSON.stringify(field)} must be letters, digits and _ (not starting with a digit)`]);
      if (seen.has(field)) problems.push([`walk.${i}.columns`, `field name ${JSON.stringify(field)} is used by walk[${seen.get(field)}] too; series would clash`]);
      seen.set(field, i);
      try {
        columns.push({ field, oid: resolveColumnOid(tableOid, col) });
      } catch (err) {
        problems.push([`walk.${i}.columns.${field}`, (err as Error).message]);
      }
    }
    let labelOid: string | undefined;
    if (w.label !== undefined && w.label !== 'index') {
      try {
        labelOid = resolveColumnOid(tableOid, w.label);
      } catch (err) {
        problems.push([`walk.${i}.label`, `${(err as Error).message}; or write index to name rows by their index`]);
      }
    }
    let include: RegExp | undefined;
    if (w.include !== undefined) {
      try {
        include = new RegExp(w.include);
      } catch (err) {
        problems.push([`walk.${i}.include`, `is not a valid regular expression: ${(err as Error).message}`]);
      }
    }
    walks.push({ text: w.table, tableOid, labelOid, columns, include });
  });
  return { compiled: { gets, walks }, problems };
}

class SnmpBlock implements BlockInstance {
  private readonly client: SnmpClient;
  private readonly target: string;

  constructor(o: SnmpOptions, private readonly c: Compiled) {
    const port = o.port ?? 161;
    this.target = o.host.includes(':') ? `[${o.host}]:${port}` : `${o.host}:${port}`;
    const options: ClientOptions = {
      host: o.host,
      port,
      version: o.version ?? '2c',
      community: o.community ?? 'public',
      context: o.context,
      timeoutMs: requestTimeoutMs(o),
      retries: o.retries ?? DEFAULT_RETRIES,
      maxRepetitions: o.max_repetitions ?? DEFAULT_MAX_REPETITIONS,
    };
    if (o.version === 3) {
      options.user = { name: o.user!, authProtocol: o.auth_protocol, authKey: o.auth_key, privProtocol: o.priv_protocol, privKey: o.priv_key };
    }
    this.client = new SnmpClient(options);
  }

  async run(ctx: RunContext): Promise<RunOutput> {
    const fields: Record<string, number> = {};
    const kinds: Record<string, FieldKind> = {};
    const problems: string[] = [];
    const lines: string[] = [];
    const put = (field: string, oid: string, vb: snmp.Varbind): void => {
      const n = numeric(vb);
      if ('why' in n) {
        problems.push(`${field} (${oid}): ${n.why}`);
        return;
      }
      fields[field] = n.value;
      if (n.kind !== 'gauge') kinds[field] = n.kind;
      lines.push(`${field} = ${n.value}  (${typeName(vb.type)} ${oid})`);
    };
    try {
      if (this.c.gets.length > 0) {
        const { values, missing } = await this.client.get([...new Set(this.c.gets.map((g) => g.oid))], ctx.signal);
        for (const g of this.c.gets) {
          const vb = values.get(g.oid);
          if (vb) put(g.field, g.oid, vb);
          else problems.push(`${g.field} (${g.oid}): ${missing.get(g.oid) ?? 'no value'}`);
        }
      }
      for (const w of this.c.walks) await this.walk(w, ctx.signal, put, problems);
    } catch (err) {
      const message = err instanceof SnmpError ? err.message : (err as Error).message;
      const failed: RunOutput = { ok: false, fields, message: `snmp ${this.target}: ${message}`, output: lines.join('\n') };
      if (Object.keys(kinds).length > 0) failed.kinds = kinds;
      return failed;
    }
    const out: RunOutput = { ok: problems.length === 0, fields, output: lines.join('\n') };
    if (Object.keys(kinds).length > 0) out.kinds = kinds;
    if (problems.length > 0) out.message = `snmp ${this.target}: ${problems.join('; ')}`;
    return out;
  }

  private async walk(w: CompiledWalk, signal: AbortSignal, put: (field: string, oid: string, vb: snmp.Varbind) => void, problems: string[]): Promise<void> {
    const oids = [...(w.labelOid ? [w.labelOid] : []), ...w.columns.map((c) => c.oid)];
    const byColumn = await this.client.walkColumns([...new Set(oids)], signal);
    const indexes = new Set<string>();
    for (const rows of byColumn.values()) for (const [index] of rows) indexes.add(index);
    if (indexes.size === 0) {
      problems.push(`${w.text} (${w.tableOid}): no rows (is it a table this agent has?)`);
      return;
    }
    // Labels: the label column's text, or the row index; a repeated label gets _<index>.
    const labelOf = new Map<string, string>();
    if (w.labelOid) for (const [index, vb] of byColumn.get(w.labelOid)!) labelOf.set(index, textOf(vb.value));
    const sorted = [...indexes].sort(compareOids);
    const taken = new Set<string>();
    const names = new Map<string, string>();
    const skipped: string[] = [];
    for (const index of sorted) {
      const raw = labelOf.get(index) ?? index;
      if (w.include && !w.include.test(raw)) {
        skipped.push(raw);
        continue;
      }
      let name = sanitize(raw) || sanitize(index);
      if (taken.has(name)) name = `${name}_${sanitize(index)}`;
      taken.add(name);
      names.set(index, name);
    }
    if (names.size === 0) {
      const shown = skipped.slice(0, 10).map((s) => JSON.stringify(s)).join(', ');
      problems.push(`${w.text}: no row matches include /${w.include!.source}/ (rows: ${shown}${skipped.length > 10 ? ', ...' : ''})`);
      return;
    }
    for (const c of w.columns) {
      for (const [index, vb] of byColumn.get(c.oid) ?? []) {
        const name = names.get(index);
        if (name !== undefined) put(`${c.field}_${name}`, `${c.oid}.${index}`, vb);
      }
    }
  }

  close(): void {
    this.client.close();
  }
}

const duration = (description: string): JsonSchema => durationSchema('500ms, 1s or 2s', description);

const secret = (what: string): JsonSchema => ({
  type: 'string',
  minLength: 8,
  'x-expected': `the ${what} (text, at least 8 characters)`,
  description: `SNMPv3 ${what}, at least 8 characters (usually \${VAR}).`,
});

/** snmpBlock reads numbers from an SNMP agent: single OIDs (get) and table columns (walk). */
export const snmpBlock: BlockType<SnmpOptions> = {
  type: 'snmp',
  description: 'Read numbers from an SNMP agent (v1, v2c, v3): OIDs with get, table columns with walk; counters are stored as rates.',
  schema: {
    required: ['host'],
    properties: {
      host: { type: 'string', minLength: 1, 'x-expected': 'a host name or IP address', description: 'The agent.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'UDP port (default 161).' },
      version: { enum: [1, '2c', 3], description: 'SNMP version: 1, 2c or 3 (default 2c).' },
      community: { type: 'string', minLength: 1, 'x-expected': 'a community string', description: 'v1/v2c community (default public).' },
      user: { type: 'string', minLength: 1, 'x-expected': 'a user name', description: 'v3 user (required with version 3).' },
      auth_protocol: { enum: ['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'], description: 'v3 authentication protocol (default sha).' },
      auth_key: secret('authentication passphrase'),
      priv_protocol: { enum: ['des', 'aes', 'aes256b', 'aes256r'], description: 'v3 privacy protocol (default aes).' },
      priv_key: secret('privacy passphrase'),
      context: { type: 'string', description: 'v3 context name (default empty).' },
      request_timeout: duration('How long to wait for each answer before a retry (default: what fits the run timeout, at most 1s).'),
      retries: { type: 'integer', minimum: 0, maximum: 10, description: 'Requests sent again after no answer (default 1).' },
      max_repetitions: { type: 'integer', minimum: 1, maximum: 200, description: 'Rows asked per GETBULK in a walk (default 20).' },
      get: {
        type: 'object',
        minProperties: 1,
        'x-expected': 'a mapping of field names to OIDs, e.g. { uptime: sysUpTime, load: 1.3.6.1.4.1.2021.10.1.5.1 }',
        additionalProperties: { type: 'string', minLength: 1, 'x-expected': 'an OID: numeric (1.3.6.1.2.1.1.3.0) or a name (sysUpTime, ifInOctets.1)' },
        description: 'Field name → OID (numeric, or a known name like sysUpTime, ifInOctets.2).',
      },
      walk: {
        type: 'array',
        minItems: 1,
        'x-expected': 'a list of tables, each { table, columns, label, include }',
        description: 'Tables to walk; each column gives one series per row, <field>_<label>.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['table', 'columns'],
          'x-expected': 'a mapping with table, columns, and optional label and include',
          properties: {
            table: { type: 'string', minLength: 1, 'x-expected': 'a table: a name like ifTable or a numeric OID', description: 'The table (ifTable, hrStorageTable, ... or a numeric OID).' },
            columns: {
              type: 'object',
              minProperties: 1,
              'x-expected': 'a mapping of field names to columns, e.g. { in: ifInOctets, out: 16 }',
              additionalProperties: { type: ['string', 'integer'], 'x-expected': 'a column: a name like ifInOctets, a number, or a numeric OID' },
              description: 'Field name → column (a name like ifInOctets, a column number, or its numeric OID).',
            },
            label: {
              type: ['string', 'integer'],
              'x-expected': 'index, or a column that names rows (e.g. ifDescr)',
              description: 'What names a row in series names: index (default) or a column such as ifDescr.',
            },
            include: { type: 'string', minLength: 1, 'x-expected': 'a regular expression', description: 'Only rows whose label matches this regular expression.' },
          },
        },
      },
    },
  },
  check(o) {
    const problems: Array<[string, string]> = [];
    const v = o.version ?? '2c';
    if (o.get === undefined && o.walk === undefined) problems.push(['', 'nothing to read: add get: (OIDs) or walk: (tables)']);
    if (v === 3) {
      if (o.user === undefined) problems.push(['', 'version 3 needs user (and usually auth_key and priv_key)']);
      if (o.community !== undefined) problems.push(['community', 'is for versions 1 and 2c; version 3 authenticates with user, auth_key and priv_key']);
      if (o.priv_key !== undefined && o.auth_key === undefined) problems.push(['priv_key', 'needs auth_key too (SNMPv3 has no privacy without authentication)']);
      if (o.auth_protocol !== undefined && o.auth_key === undefined) problems.push(['auth_protocol', 'has no effect without auth_key']);
      if (o.priv_protocol !== undefined && o.priv_key === undefined) problems.push(['priv_protocol', 'has no effect without priv_key']);
    } else {
      for (const k of ['user', 'auth_protocol', 'auth_key', 'priv_protocol', 'priv_key', 'context'] as const) {
        if (o[k] !== undefined) problems.push([k, `is for version 3; version ${v} authenticates with community`]);
      }
    }
    if (v === 1 && o.max_repetitions !== undefined) problems.push(['max_repetitions', 'has no effect with version 1 (it has no GETBULK)']);
    if (o.request_timeout !== undefined) {
      const tries = (o.retries ?? DEFAULT_RETRIES) + 1;
      const each = parseDuration(o.request_timeout);
      const run = runTimeoutMs(o);
      if (each !== undefined && each === 0) problems.push(['request_timeout', 'must be more than 0']);
      else if (each !== undefined && each * tries > run) {
        problems.push(['request_timeout', `${tries} tries of ${formatDuration(each)} do not fit in the run's timeout of ${formatDuration(run)}; lower request_timeout or retries, or raise timeout`]);
      }
    }
    problems.push(...compile(o).problems);
    return problems;
  },
  // A walk's fields are named by the rows the agent has: known only when it runs.
  fields: (o) => (o.walk && o.walk.length > 0 ? undefined : Object.keys(o.get ?? {})),
  create(o) {
    const { compiled, problems } = compile(o);
    if (problems.length > 0) throw new Error(problems.map(([p, m]) => `${p}: ${m}`).join('; '));
    return new SnmpBlock(o, compiled);
  },
};
