import { BlockInstance, BlockType, durationSchema, JsonSchema, RunContext, RunOutput } from '../../src/engine/block';
import { parseDuration } from '../../src/util/duration';
import { Read, RedisReader } from './reader';

/** RedisOptions: the block's keys in monitor.yaml (see README.md). */
export interface RedisBlockOptions {
  name: string;
  url: string;
  password?: string;
  connect_timeout?: string;
  lists?: Record<string, string>;
  streams?: Record<string, string>;
  sets?: Record<string, string>;
  zsets?: Record<string, string>;
  keys?: Record<string, string>;
  hashes?: Record<string, { key: string; field: string }>;
  info?: string[];
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['up', 'duration_ms']);
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

/** KEYED: the options that map field names to keys, with the command that reads each. */
const KEYED = [
  ['lists', 'llen'],
  ['streams', 'xlen'],
  ['sets', 'scard'],
  ['zsets', 'zcard'],
  ['keys', 'get'],
] as const;

/** reads lists every value a block reads, in the order of its options. */
function reads(o: RedisBlockOptions): Read[] {
  const out: Read[] = [];
  for (const [option, cmd] of KEYED) {
    for (const [field, key] of Object.entries(o[option] ?? {})) out.push({ field, cmd, key, what: `${option}.${field}` });
  }
  for (const [field, h] of Object.entries(o.hashes ?? {})) out.push({ field, cmd: 'hget', key: h.key, hashField: h.field, what: `hashes.${field}` });
  return out;
}

/** fieldsOf lists a block's fields: its mapped names and its INFO fields. */
function fieldsOf(o: RedisBlockOptions): string[] {
  return [...reads(o).map((r) => r.field), ...(o.info ?? [])];
}

class RedisBlock implements BlockInstance {
  private readonly reader: RedisReader;
  private readonly reads: Read[];

  constructor(private readonly o: RedisBlockOptions) {
    const connectMs = (o.connect_timeout && parseDuration(o.connect_timeout)) || DEFAULT_CONNECT_TIMEOUT_MS;
    this.reader = new RedisReader(o.url, o.password, connectMs);
    this.reads = reads(o);
  }

  async run(ctx: RunContext): Promise<RunOutput> {
    try {
      const r = await this.reader.read(this.reads, this.o.info ?? [], ctx.signal);
      const out: RunOutput = { ok: r.problems.length === 0, fields: r.fields, output: r.lines.join('\n') };
      if (r.problems.length > 0) out.message = `redis ${this.reader.where}: ${r.problems.join('; ')}`;
      return out;
    } catch (err) {
      const message = (err as Error).message;
      return { ok: false, message: message.startsWith('cannot reach') ? message : `redis ${this.reader.where}: ${message}` };
    }
  }

  close(): void {
    this.reader.close();
  }
}

const keyMap = (what: string, example: string): JsonSchema => ({
  type: 'object',
  minProperties: 1,
  'x-expected': `a mapping of field names to ${what} keys, e.g. ${example}`,
  additionalProperties: { type: 'string', minLength: 1, 'x-expected': 'a key name' },
});

/** redisBlock reads list, stream, set lengths, key values and INFO fields of a Redis server. */
export const redisBlock: BlockType<RedisBlockOptions> = {
  type: 'redis',
  description: 'Read a Redis server: list and stream lengths (a queue backing up), set sizes, numeric keys and INFO fields.',
  schema: {
    required: ['url'],
    properties: {
      url: {
        type: 'string',
        pattern: '^rediss?://',
        'x-expected': 'a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0',
        description: 'The server: redis://[:password@]host:port/db (rediss:// for TLS).',
      },
      password: { type: 'string', minLength: 1, 'x-expected': 'the password (text, usually ${VAR})', description: 'Password (AUTH), usually ${VAR}; never shown.' },
      connect_timeout: durationSchema('500ms, 2s or 5s', 'How long a connection attempt may take (default 2s).'),
      lists: { ...keyMap('list', '{ jobs: queue:jobs }'), description: 'Field name → list key: its length (LLEN; 0 when the key does not exist).' },
      streams: { ...keyMap('stream', '{ events: stream:events }'), description: 'Field name → stream key: its length (XLEN; 0 when the key does not exist).' },
      sets: { ...keyMap('set', '{ workers: workers:alive }'), description: 'Field name → set key: its size (SCARD).' },
      zsets: { ...keyMap('sorted set', '{ delayed: queue:delayed }'), description: 'Field name → sorted set key: its size (ZCARD).' },
      keys: { ...keyMap('string', '{ processed: stats:processed }'), description: 'Field name → key holding a number (GET); a key that does not exist is "no value".' },
      hashes: {
        type: 'object',
        minProperties: 1,
        'x-expected': 'a mapping of field names to { key, field }, e.g. { pending: { key: stats, field: pending } }',
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['key', 'field'],
          'x-expected': '{ key: HASH KEY, field: HASH FIELD }',
          properties: { key: { type: 'string', minLength: 1, 'x-expected': 'a key name' }, field: { type: 'string', minLength: 1, 'x-expected': 'a hash field name' } },
        },
        description: 'Field name → { key, field } of a hash holding a number (HGET).',
      },
      info: {
        type: 'array',
        minItems: 1,
        'x-expected': 'a list of INFO field names, e.g. [used_memory, connected_clients]',
        items: { type: 'string', pattern: '^[a-z][a-z0-9_]*$', 'x-expected': 'an INFO field name such as used_memory' },
        description: 'INFO fields to read as fields of the same name (used_memory, connected_clients, instantaneous_ops_per_sec, ...).',
      },
    },
  },
  check(o) {
    const problems: Array<[string, string]> = [];
    if (typeof o.url === 'string' && /^rediss?:\/\//.test(o.url)) {
      try {
        const u = new URL(o.url);
        if (!u.hostname) problems.push(['url', 'has no host; expected e.g. redis://127.0.0.1:6379/0']);
        const db = u.pathname.replace(/^\//, '');
        if (db !== '' && !/^\d{1,5}$/.test(db)) problems.push(['url', `the database after the host must be a number (e.g. /0); got "/${db}"`]);
      } catch {
        problems.push(['url', 'is not a valid URL; expected e.g. redis://127.0.0.1:6379/0']);
      }
    }
    const has = KEYED.some(([k]) => o[k] !== undefined) || o.hashes !== undefined || o.info !== undefined;
    if (!has) problems.push(['', 'reads nothing; give lists, streams, sets, zsets, keys, hashes or info (e.g. lists: { jobs: queue:jobs })']);
    const seen = new Map<string, string>();
    const name = (field: string, where: string): void => {
      if (!FIELD_NAME.test(field)) problems.push([where, `field name ${JSON.stringify(field)} must be letters, digits and _ (not starting with a digit)`]);
      else if (RESERVED.has(field)) problems.push([where, `field name "${field}" is the block's own series; choose another`]);
      else if (seen.has(field)) problems.push([where, `field name "${field}" is used by ${seen.get(field)} too; series would clash`]);
      seen.set(field, where);
    };
    for (const [option] of KEYED) for (const field of Object.keys(o[option] ?? {})) name(field, `${option}.${field}`);
    for (const field of Object.keys(o.hashes ?? {})) name(field, `hashes.${field}`);
    (Array.isArray(o.info) ? o.info : []).forEach((f, i) => typeof f === 'string' && name(f, `info.${i}`));
    return problems;
  },
  fields: (o) => fieldsOf(o),
  create: (o) => new RedisBlock(o),
};
