import assert from 'node:assert/strict';
import { SeriesCatalog } from '../src/config/catalog';
import { ConfigError, loadConfig } from '../src/config/load';
import type { ConfigSection } from '../src/config/section';
import { registry } from '../src/registry';

declare module '../src/config/types' {
  interface Config {
    // Test-only: the probe section below, which only looks at the catalog.
    catalog_probe?: undefined;
  }
}

/** catalogOf loads blocks with the built-in types and returns the catalog later sections see (also for an invalid file). */
function catalogOf(blocks: string): SeriesCatalog {
  let seen: SeriesCatalog | undefined;
  const probe: ConfigSection<'catalog_probe'> = {
    key: 'catalog_probe',
    reload: 'live',
    after: ['blocks'],
    schema: { type: 'null' },
    check: (_raw, ctx) => {
      seen = ctx.catalog;
      return [];
    },
    build: () => undefined,
  };
  try {
    loadConfig('monitor.yaml', { ...registry, sections: [probe], text: `blocks:\n${blocks}`, env: {} });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
  }
  return seen!;
}

const ALL = `  - { name: homepage, type: http, url: "http://127.0.0.1:8080/" }
  - { name: gw, type: ping, host: 127.0.0.1 }
  - { name: true-cmd, type: shell, command: "true" }
  - { name: count, type: shell, command: "echo 3", parse: number }
  - { name: load, type: shell, command: cat /proc/loadavg, parse: { regex: '^(?<load1>\\S+) (?<load5>\\S+)' } }
  - { name: api, type: shell, command: "echo {}", parse: json }
  - { name: mem, type: shell, command: "echo a=1", parse: kv }
  - { name: agent, type: snmp, host: 127.0.0.1, get: { uptime: sysUpTime, load: 1.3.6.1.4.1.2021.10.1.5.1 } }
  - { name: ifs, type: snmp, host: 127.0.0.1, walk: [ { table: ifTable, columns: { in: ifInOctets } } ] }
  - { name: job, type: heartbeat, period: 1h }
`;

describe('config: the series catalog of the built-in block types', () => {
  const catalog = catalogOf(ALL);
  const seriesOf = (block: string): string[] => catalog.series().filter((s) => s.startsWith(`${block}.`)).map((s) => s.slice(block.length + 1)).sort();

  const blocks: Array<[string, string[], boolean]> = [
    ['homepage', ['cert_days_left', 'connect_ms', 'dns_ms', 'duration_ms', 'redirects', 'size_bytes', 'status', 'tls_ms', 'total_ms', 'ttfb_ms', 'up'], false],
    ['gw', ['duration_ms', 'loss_pct', 'received', 'rtt_avg_ms', 'rtt_max_ms', 'rtt_mdev_ms', 'rtt_min_ms', 'sent', 'up'], false],
    ['true-cmd', ['duration_ms', 'exit_code', 'up'], false],
    ['count', ['duration_ms', 'exit_code', 'up', 'value'], false],
    ['load', ['duration_ms', 'exit_code', 'load1', 'load5', 'up'], false],
    ['api', ['duration_ms', 'up'], true],
    ['mem', ['duration_ms', 'up'], true],
    ['agent', ['duration_ms', 'load', 'up', 'uptime'], false],
    ['ifs', ['duration_ms', 'up'], true],
    // Passive: signalled, not run, so no duration_ms.
    ['job', ['error_count', 'exit_code', 'late_s', 'runtime_s', 'up'], false],
  ];
  for (const [block, series, open] of blocks) {
    it(`${block}: ${open ? 'up and duration_ms, fields open' : series.join(', ')}`, () => {
      assert.deepEqual(seriesOf(block), series);
      assert.equal(catalog.isOpen(block), open);
    });
  }

  it('lists the open blocks', () => assert.deepEqual(catalog.openBlocks(), ['api', 'ifs', 'mem']));

  it('keeps the first of two blocks of one name, and leaves a block of an unknown type or with a bad option open', () => {
    const c = catalogOf(`  - { name: a, type: ping, host: x }
  - { name: a, type: shell, command: "true" }
  - { name: b, type: shel, command: "true" }
  - { name: c, type: ping, host: x, count: 0 }
  - { name: d, type: shell, command: "true", parse: { regex: "(?<x" } }
`);
    assert.ok(c.has('a.rtt_avg_ms') && !c.has('a.exit_code'));
    assert.deepEqual(c.openBlocks(), ['b', 'c', 'd']);
    assert.ok(c.has('b.anything') && c.has('b.duration_ms'));
  });
});

describe('config: checking a series reference against the catalog', () => {
  const catalog = catalogOf(ALL);
  // What derive adds for the sections after it.
  catalog.add('homepage.fast_ratio');
  catalog.add('fleet_errors');

  const cases: Array<[string, string, string | undefined]> = [
    ['a block field', 'homepage.total_ms', undefined],
    ['up of a passive block', 'job.up', undefined],
    ['a derived series under a block', 'homepage.fast_ratio', undefined],
    ['a derived series of its own name', 'fleet_errors', undefined],
    ['any field of a block whose fields are open', 'api.queue_depth', undefined],
    ['a field typo', 'homepage.totl_ms', 'no series is named "homepage.totl_ms"; did you mean "homepage.total_ms"?'],
    ['the start of a field', 'homepage.dns', 'no series is named "homepage.dns"; did you mean "homepage.dns_ms"?'],
    ['a block typo', 'homepge.total_ms', 'no series is named "homepge.total_ms"; did you mean "homepage.total_ms"?'],
    ['a block typo of an open block', 'apl.queue_depth', 'no series is named "apl.queue_depth"; did you mean "api.queue_depth"?'],
    ['a derived series typo', 'fleet_erors', 'no series is named "fleet_erors"; did you mean "fleet_errors"?'],
    ['duration_ms of a passive block', 'job.duration_ms', 'no series is named "job.duration_ms"; expected one of: job.up, job.late_s, job.error_count, job.runtime_s, job.exit_code'],
    ['a block alone', 'api', 'no series is named "api"; expected api.<field>'],
    ['a block typo with a field it does not have', 'homepge.zzz', 'no series is named "homepge.zzz"; no block is named "homepge"; did you mean "homepage"?'],
    ['an unknown block', 'nosuch.up', 'no series is named "nosuch.up"; no block or derived series is named "nosuch"; expected <block>.<field>'],
  ];
  for (const [name, series, message] of cases) {
    it(`${name}: ${series}`, () => {
      const issue = catalog.check(series, ['slas', 0, 'test']);
      assert.deepEqual(issue, message === undefined ? undefined : { path: ['slas', 0, 'test'], message });
      assert.equal(catalog.has(series), message === undefined);
    });
  }
});
