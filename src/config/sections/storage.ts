import { JsonSchema } from '../../engine/block';
import { parseDuration } from '../../util/duration';
import { DEFAULT_RETENTION } from '../build';
import { duration } from '../schema';
import type { ConfigSection, SectionIssue } from '../section';

/** StorageRaw is `storage:` after validation, before defaults. */
export interface StorageRaw {
  kind?: 'rrd' | 'memory' | 'influx';
  retention?: string[];
  url?: string;
  token?: string;
  org?: string;
  bucket?: string;
  labels?: Record<string, string>;
  read_url?: string;
  read?: 'promql';
  buffer_max_mb?: number;
  flush_interval?: string;
  batch_size?: number;
}

/** Defaults of storage.kind influx (docs/storage-influx.md). */
export const INFLUX_DEFAULTS = { bufferMaxMb: 256, flushIntervalMs: 1000, batchSize: 5000 };

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

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** checkStorage: influx keys only with kind: influx, label names usable in PromQL, no zero flush_interval. */
function checkStorage(storage: unknown): SectionIssue[] {
  const issues: SectionIssue[] = [];
  if (typeof storage !== 'object' || storage === null || Array.isArray(storage)) return issues;
  const s = storage as Record<string, unknown>;
  const kind = s.kind ?? 'rrd';
  if (kind !== 'influx') {
    for (const key of Object.keys(influxStorageProperties)) {
      if (s[key] !== undefined) issues.push({ path: ['storage', key], message: `"${key}" is only used with kind: influx; add kind: influx or remove it` });
    }
    return issues;
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
  return issues;
}

/** storageSection is `storage:`: where series are kept (rrd, memory or influx). */
export const storageSection: ConfigSection<'storage', StorageRaw> = {
  key: 'storage',
  reload: 'restart',
  schema: {
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
  check: checkStorage,
  build(raw) {
    const s = raw ?? {};
    const base = { kind: s.kind ?? 'rrd', retention: s.retention ?? [...DEFAULT_RETENTION] };
    if (s.kind !== 'influx') return base;
    const url = s.url!.replace(/\/+$/, '');
    return {
      ...base,
      influx: {
        url,
        token: s.token ? s.token : undefined,
        org: s.org ?? '',
        bucket: s.bucket!,
        labels: { ...(s.labels ?? {}) },
        readUrl: s.read_url ? s.read_url.replace(/\/+$/, '') : url,
        read: s.read ?? 'promql',
        bufferMaxMb: s.buffer_max_mb ?? INFLUX_DEFAULTS.bufferMaxMb,
        flushIntervalMs: s.flush_interval ? parseDuration(s.flush_interval)! : INFLUX_DEFAULTS.flushIntervalMs,
        batchSize: s.batch_size ?? INFLUX_DEFAULTS.batchSize,
      },
    };
  },
};
