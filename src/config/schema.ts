import { BlockType, COMMON_BLOCK_KEYS, durationSchema, JsonSchema } from '../engine/block';

/** NAME_PATTERN: block names, used in series names and URLs. */
export const NAME_PATTERN = '^[A-Za-z0-9_-]+$';
const KEY_PATTERN = '^[A-Za-z0-9_.:/-]+$';

const duration = durationSchema('500ms, 5s, 1m, 2h, 1d or 1w');

const sharedKey = (what: string): JsonSchema => ({
  type: 'string',
  pattern: KEY_PATTERN,
  'x-expected': `a ${what} name of letters, digits and _ . : / -`,
});

const blockName: JsonSchema = {
  type: 'string',
  pattern: NAME_PATTERN,
  'x-expected': 'a name of letters, digits, _ and -',
};

/** The pipe step forms; load.ts compiles them and checks that each has one action. */
const step: JsonSchema = {
  type: 'object',
  description: 'One pipe step: if/then/else, set, increment, queue, run, lock or with-lock.',
  'x-expected': 'a step (a mapping with one of if, set, increment, queue, run, lock, with-lock)',
  minProperties: 1,
  additionalProperties: false,
  dependencies: { then: ['if'], else: ['if'], if: ['then'] },
  properties: {
    if: { type: 'string', minLength: 1, 'x-expected': 'a condition over the result fields, e.g. "up == 0"' },
    then: { $ref: '#/definitions/steps' },
    else: { $ref: '#/definitions/steps' },
    set: {
      description: 'Put a value in shared state: `set: KEY` stores the result; `{key, bucket, value}` stores an expression.',
      type: ['string', 'object'],
      pattern: KEY_PATTERN,
      'x-expected': 'a state key, or a mapping with key and optional bucket and value',
      additionalProperties: false,
      required: ['key'],
      properties: {
        key: sharedKey('state key'),
        bucket: sharedKey('bucket'),
        value: { type: 'string', minLength: 1, 'x-expected': 'an expression over the result fields' },
      },
    },
    increment: {
      description: 'Add to a shared counter: `increment: NAME` or `{counter, by}`.',
      type: ['string', 'object'],
      pattern: KEY_PATTERN,
      'x-expected': 'a counter name, or a mapping with counter and by',
      additionalProperties: false,
      required: ['counter'],
      properties: { counter: sharedKey('counter'), by: { type: 'integer', 'x-expected': 'a whole number (counters are integers)' } },
    },
    queue: {
      description: 'Push the result to a shared queue: `queue: NAME` or `{queue, max_length, max_age}`.',
      type: ['string', 'object'],
      pattern: KEY_PATTERN,
      'x-expected': 'a queue name, or a mapping with queue and optional max_length and max_age',
      additionalProperties: false,
      required: ['queue'],
      properties: { queue: sharedKey('queue'), max_length: { type: 'integer', minimum: 1 }, max_age: duration },
    },
    run: { ...blockName, description: 'Run another block with this result as its input.', 'x-expected': 'the name of another block' },
    lock: {
      description: 'Take a shared lock and keep it for ttl; the following steps run only when it was taken.',
      type: 'object',
      'x-expected': 'a mapping with name, ttl and optional wait',
      additionalProperties: false,
      required: ['name', 'ttl'],
      properties: { name: sharedKey('lock'), ttl: duration, wait: duration },
    },
    'with-lock': {
      description: 'Run steps while holding a shared lock, then release it.',
      type: 'object',
      'x-expected': 'a mapping with name, ttl, optional wait, and steps',
      additionalProperties: false,
      required: ['name', 'ttl', 'steps'],
      properties: { name: sharedKey('lock'), ttl: duration, wait: duration, steps: { $ref: '#/definitions/steps' } },
    },
  },
};

const httpUrl = (example: string): JsonSchema => ({
  type: 'string',
  pattern: '^https?://[^\\s/?#]+(?:/[^\\s?#]*)?$',
  'x-expected': `an http:// or https:// URL, e.g. ${example}`,
});

/** influxStorageProperties are the keys of `storage: { kind: influx }` (docs/storage-influx.md). */
export const influxStorageProperties: Record<string, JsonSchema> = {
  url: { ...httpUrl('http://127.0.0.1:8428'), description: 'Base URL of the InfluxDB v2 write API (InfluxDB 2/3, VictoriaMetrics).' },
  token: { type: 'string', description: 'API token, sent as "Authorization: Token ..." on writes and "Bearer ..." on reads.' },
  org: { type: 'string', description: 'InfluxDB 2 organization (VictoriaMetrics ignores it).' },
  bucket: { type: 'string', minLength: 1, 'x-expected': 'a bucket name', description: 'InfluxDB bucket (VictoriaMetrics ignores it).' },
  labels: {
    type: 'object',
    description: 'Extra tags on every line, besides node.',
    'x-expected': 'a mapping of label names to values',
    additionalProperties: { type: 'string', 'x-expected': 'a label value (text)' },
  },
  read_url: { ...httpUrl('http://127.0.0.1:8428'), description: 'Prometheus-API base URL for reads (default: url).' },
  read: { enum: ['promql'], description: 'How series are read back: promql (query_range), the only way for now.' },
  buffer_max_mb: { type: 'number', exclusiveMinimum: 0, description: 'Cap of the on-disk buffer for an unreachable server, in MB (default 256).' },
  flush_interval: { ...duration, description: 'A partial batch is sent after this long (default 1s).' },
  batch_size: { type: 'integer', minimum: 1, maximum: 1000000, description: 'Lines per write request (default 5000).' },
};

/** commonBlockProperties are the keys every block accepts. */
export const commonBlockProperties: Record<(typeof COMMON_BLOCK_KEYS)[number], JsonSchema> = {
  name: { ...blockName, description: 'Unique block name; series are named <name>.<field>.' },
  type: { type: 'string', description: 'The block type.' },
  description: { type: 'string' },
  every: { ...duration, description: 'Run interval (default 1m).' },
  timeout: { ...duration, description: 'A run is aborted after this long (default: the smaller of 10s and every).' },
  mode: {
    enum: ['interval', 'once', 'on-demand'],
    description: 'interval: every `every`; once: at start; on-demand: only when asked (API, run step).',
  },
  disabled: { type: 'boolean', 'x-expected': 'true or false' },
  pipe: { $ref: '#/definitions/steps', description: 'Steps run on each result, in order.' },
};

/**
 * buildSchema composes the one JSON Schema of monitor.yaml: the core keys plus, for each
 * block type, an if/then branch holding that type's own options. The same object is
 * validated with ajv and published for editors (`remon schema`).
 */
export function buildSchema(types: readonly BlockType[]): JsonSchema {
  const names = types.map((t) => t.type).sort();
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://remon.dev/schema/monitor.schema.json',
    title: 'remon monitor.yaml',
    type: 'object',
    'x-expected': 'a mapping with node, storage, shared and blocks',
    additionalProperties: false,
    definitions: {
      duration,
      step,
      steps: { type: 'array', items: { $ref: '#/definitions/step' }, 'x-expected': 'a list of steps, each starting with "- "' },
    },
    properties: {
      node: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: { ...blockName, description: 'Node name (default: hostname).' },
          listen: {
            type: 'string',
            pattern: '^(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]*):\\d{1,5}$',
            'x-expected': 'host:port, e.g. 127.0.0.1:2001',
            description: 'Address of the HTTP API, the heartbeat endpoints and /metrics (default 127.0.0.1:2001); the web UI and RPC will be served there too once they are built.',
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
      storage: {
        type: 'object',
        additionalProperties: false,
        if: { properties: { kind: { const: 'influx' } }, required: ['kind'] },
        then: { properties: { url: {}, bucket: {} }, required: ['url', 'bucket'] },
        properties: {
          kind: { enum: ['rrd', 'memory', 'influx'] },
          ...influxStorageProperties,
          retention: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'string',
              pattern: '^(?:\\d+(?:s|m|h|d|w)):(?:\\d+(?:s|m|h|d|w|y))$',
              'x-expected': 'step:span, e.g. 10s:1d',
            },
          },
        },
      },
      shared: {
        type: 'object',
        additionalProperties: false,
        description: 'Where state, counters, locks and queues live (docs/shared.md).',
        properties: {
          kind: { enum: ['memory', 'redis'], description: 'memory (default): in this process; redis: on a Redis server, shared by nodes.' },
          url: {
            type: 'string',
            pattern: '^rediss?://',
            'x-expected': 'a redis:// URL, e.g. redis://127.0.0.1:6379',
            description: 'kind redis: the server (default redis://127.0.0.1:6379).',
          },
          prefix: {
            type: 'string',
            pattern: '^[A-Za-z0-9_.:/-]*$',
            'x-expected': 'a key prefix of letters, digits and _ . : / -',
            description: 'kind redis: prefix of every key (default "remon:").',
          },
          persistent_buckets: {
            type: 'array',
            items: sharedKey('bucket'),
            description: 'kind memory: state buckets kept under node.data across restarts.',
          },
        },
      },
      blocks: {
        type: 'array',
        'x-expected': 'a list of blocks, each starting with "- name:"',
        items: {
          type: 'object',
          'x-expected': 'a block (a mapping with name, type and the options of its type)',
          required: ['name', 'type'],
          properties: {
            name: commonBlockProperties.name,
            type: { type: 'string', enum: names, 'x-block-type': true, 'x-expected': `a block type (one of: ${names.join(', ')})` },
          },
          allOf: types.map((t) => ({
            if: { properties: { type: { const: t.type } }, required: ['type'] },
            then: {
              description: t.description,
              additionalProperties: false,
              required: t.schema.required ?? [],
              properties: { ...commonBlockProperties, ...t.schema.properties },
            },
          })),
        },
      },
    },
  };
}
