import assert from 'node:assert/strict';
import { configChanges, ConfigChanges, restartNeeded } from '../src/config/diff';
import { loadConfig } from '../src/config/load';
import { Config } from '../src/config/types';
import { registry } from '../src/registry';
import { panelsSection, widgetsSection } from './widgets-section';

/** load builds a config from text with the built-in types and the test-only widgets and panels sections. */
function load(text: string): Config {
  return loadConfig('/srv/remon/monitor.yaml', { ...registry, sections: [widgetsSection, panelsSection], text, env: {} }).config;
}

const BASE = `node: { name: alpha }
blocks:
  - { name: web, type: http, url: "http://127.0.0.1:8080/", every: 10s }
  - { name: load, type: shell, command: cat /proc/loadavg, pipe: [ { increment: runs } ] }
  - { name: job, type: heartbeat, period: 1h }
`;

/** edit replaces one line of BASE (the first that contains `find`), or appends `extra`. */
function edit(find: string, line: string | null, extra = ''): string {
  const lines = BASE.split('\n');
  const i = lines.findIndex((l) => l.includes(find));
  if (line === null) lines.splice(i, 1);
  else lines[i] = line;
  return lines.join('\n') + extra;
}

const none = { added: [], removed: [], changed: [], unchanged: ['web', 'load', 'job'] };

describe('config: configChanges (what a reload must do)', () => {
  const cases: Array<{ name: string; next: string; want: ConfigChanges; restart: string[] }> = [
    { name: 'the same file', next: BASE, want: { sections: [], blocks: none }, restart: [] },
    {
      name: 'a block added',
      next: `${BASE}  - { name: gw, type: ping, host: 127.0.0.1 }\n`,
      want: { sections: ['blocks'], blocks: { ...none, added: ['gw'] } },
      restart: [],
    },
    {
      name: 'a block removed',
      next: edit('name: load', null),
      want: { sections: ['blocks'], blocks: { ...none, removed: ['load'], unchanged: ['web', 'job'] } },
      restart: [],
    },
    ...([
      ['every', '  - { name: web, type: http, url: "http://127.0.0.1:8080/", every: 20s }'],
      ['timeout', '  - { name: web, type: http, url: "http://127.0.0.1:8080/", every: 10s, timeout: 1s }'],
      ['mode', '  - { name: web, type: http, url: "http://127.0.0.1:8080/", mode: on-demand }'],
      ['disabled', '  - { name: web, type: http, url: "http://127.0.0.1:8080/", every: 10s, disabled: true }'],
      ['an option', '  - { name: web, type: http, url: "http://127.0.0.1:8081/", every: 10s }'],
      ['the type', '  - { name: web, type: ping, host: 127.0.0.1, every: 10s }'],
    ] as const).map(([what, line]) => ({
      name: `a block's ${what} changed`,
      next: edit('name: web', line),
      want: { sections: ['blocks'], blocks: { ...none, changed: ['web'], unchanged: ['load', 'job'] } } as ConfigChanges,
      restart: [],
    })),
    {
      name: "a block's pipe changed",
      next: edit('name: load', '  - { name: load, type: shell, command: cat /proc/loadavg, pipe: [ { increment: other } ] }'),
      want: { sections: ['blocks'], blocks: { ...none, changed: ['load'], unchanged: ['web', 'job'] } },
      restart: [],
    },
    {
      name: 'blocks reordered only',
      next: `node: { name: alpha }\nblocks:\n${BASE.split('\n').slice(2, 5).reverse().join('\n')}\n`,
      want: { sections: [], blocks: { ...none, unchanged: ['job', 'load', 'web'] } },
      restart: [],
    },
    {
      name: 'the node changed',
      next: edit('node:', 'node: { name: beta }'),
      want: { sections: ['node'], blocks: none },
      restart: ['node'],
    },
    {
      name: 'storage and shared changed (defaults written out are no change)',
      next: `storage: { kind: memory }\nshared: { kind: redis }\n${BASE.replace('node: { name: alpha }', 'node: { name: alpha, listen: "127.0.0.1:2001" }')}`,
      want: { sections: ['storage', 'shared'], blocks: none },
      restart: ['storage', 'shared'],
    },
    {
      name: 'a live added section and a restart one, with a block',
      next: `${BASE}  - { name: gw, type: ping, host: 127.0.0.1 }\nwidgets: [ { name: w, show: web.up } ]\npanels: [web.up]\n`,
      want: { sections: ['blocks', 'widgets', 'panels'], blocks: { ...none, added: ['gw'] } },
      restart: ['panels'],
    },
  ];
  const old = load(BASE);
  for (const c of cases) {
    it(c.name, () => {
      const changes = configChanges(old, load(c.next));
      assert.deepEqual(changes, c.want);
      assert.deepEqual(restartNeeded(changes, [widgetsSection, panelsSection]), c.restart);
    });
  }

  it('takes a key no given section declares as needing a restart, and knows the core sections without being told', () => {
    const changes = configChanges(old, load(`${edit('node:', 'node: { name: beta }')}  - { name: gw, type: ping, host: 127.0.0.1 }\nwidgets: [ { name: w, show: web.up } ]\n`));
    assert.deepEqual(changes.sections, ['node', 'blocks', 'widgets']);
    assert.deepEqual(restartNeeded(changes), ['node', 'widgets']);
  });
});
