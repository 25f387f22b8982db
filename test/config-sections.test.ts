import Ajv from 'ajv';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { resolveSections } from '../src/config/compose';
import { loadConfigIsolated } from '../src/config/isolated';
import { ConfigError, formatProblem, loadConfig, LoadOptions } from '../src/config/load';
import type { ConfigSection } from '../src/config/section';
import { blocksSection, coreSections } from '../src/config/sections';
import { parse } from '../src/expr';
import { registry } from '../src/registry';
import { writeConfig } from './helpers';
import { panelsSection, widgetsSection } from './widgets-section';

const ROOT = path.resolve(__dirname, '..', '..');
const HOMEPAGE = 'blocks:\n  - { name: homepage, type: http, url: "http://127.0.0.1:8080/" }\n';

/** problems loads text that must be invalid and returns its problems as `monitor.yaml:L:C: path: message`. */
function problems(text: string, options: Partial<LoadOptions> = {}): string[] {
  try {
    loadConfig('monitor.yaml', { ...registry, sections: [widgetsSection], env: {}, ...options, text });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => formatProblem('monitor.yaml', p));
  }
  assert.fail('loaded without errors');
}

describe('config sections: a section registered through LoadOptions.sections', () => {
  it('is validated, checked and built onto Config under its key, frozen', () => {
    const text = `${HOMEPAGE}widgets:\n  - { name: latency, show: homepage.total_ms, when: "homepage.up == 1" }\n  - { name: beat, show: homepage.up }\n`;
    const { config } = loadConfig('monitor.yaml', { ...registry, sections: [widgetsSection], text, env: {} });
    assert.deepEqual(config.widgets, [
      { name: 'latency', show: 'homepage.total_ms', when: parse('homepage.up == 1') },
      { name: 'beat', show: 'homepage.up' },
    ]);
    assert.ok(Object.isFrozen(config.widgets) && Object.isFrozen(config.widgets![0]));
    assert.equal(config.blocks[0].name, 'homepage');
  });

  it('is built from nothing when its key is absent', () => {
    const { config } = loadConfig('monitor.yaml', { ...registry, sections: [widgetsSection], text: HOMEPAGE, env: {} });
    assert.deepEqual(config.widgets, []);
  });

  const invalid: Array<{ name: string; text: string; sections?: ConfigSection[]; expect: string[] }> = [
    {
      name: 'a schema problem inside the section, with "did you mean"',
      text: `${HOMEPAGE}widgets:\n  - { name: latency, shw: homepage.up }\n`,
      expect: ['monitor.yaml:4:22: widgets[0].shw: unknown key "shw"; did you mean "show"?'],
    },
    {
      name: 'a shared definition the section declared',
      text: `${HOMEPAGE}widgets:\n  - { name: Latency, show: homepage.up }\n`,
      expect: ['monitor.yaml:4:13: widgets[0].name: expected a lower-case name; got "Latency"'],
    },
    {
      name: 'a series reference, checked against the blocks\' catalog',
      text: `${HOMEPAGE}widgets:\n  - name: latency\n    show: homepage.totl_ms\n`,
      expect: ['monitor.yaml:5:11: widgets[0].show: no series is named "homepage.totl_ms"; did you mean "homepage.total_ms"?'],
    },
    {
      name: 'an expression error, positioned inside the scalar',
      text: `${HOMEPAGE}widgets:\n  - name: latency\n    show: homepage.up\n    when: "homepage.up = 1"\n`,
      expect: ['monitor.yaml:6:24: widgets[0].when: unexpected character "="; use == to compare'],
    },
    {
      name: 'an item that failed the schema is not checked further (ctx.valid)',
      text: `${HOMEPAGE}widgets:\n  - { name: 7, show: nosuch.up }\n`,
      expect: ['monitor.yaml:4:13: widgets[0].name: expected a lower-case name; got 7 (a number); quote it to make it text: "7"'],
    },
    {
      name: 'a top-level typo of the section key',
      text: `${HOMEPAGE}widget: []\n`,
      expect: ['monitor.yaml:3:1: widget: unknown key "widget"; did you mean "widgets"?'],
    },
    {
      name: 'the section key when the section is not registered',
      text: `${HOMEPAGE}widgets: []\n`,
      sections: [],
      expect: ['monitor.yaml:3:1: widgets: unknown key "widgets"; expected one of: node, storage, shared, blocks'],
    },
    {
      name: 'an empty file names every section',
      text: '# nothing yet\n',
      expect: ['monitor.yaml:1:1: (top level): the file is empty; expected a mapping with node, storage, shared, blocks and widgets'],
    },
    {
      name: 'problems of core and added sections together, sorted by position',
      text: `blocks:\n  - { name: homepage, type: http, url: "http://127.0.0.1:8080/", every: 0s }\nwidgets:\n  - { name: latency, show: homepage.dns }\n`,
      expect: [
        'monitor.yaml:2:73: blocks[0].every: must be longer than 0s; got "0s"',
        'monitor.yaml:4:28: widgets[0].show: no series is named "homepage.dns"; did you mean "homepage.dns_ms"?',
      ],
    },
    {
      name: 'a section that runs after another sees the series that one added (panels after widgets)',
      text: `${HOMEPAGE}panels: [widget.latency, widget.latncy]\nwidgets:\n  - { name: latency, show: homepage.up }\n`,
      sections: [panelsSection, widgetsSection],
      expect: ['monitor.yaml:3:26: panels[1]: no series is named "widget.latncy"; did you mean "widget.latency"?'],
    },
  ];
  for (const c of invalid) {
    it(`reports ${c.name}`, () => assert.deepEqual(problems(c.text, c.sections ? { sections: c.sections } : {}), c.expect));
  }

  it('is loaded by the worker of loadConfigIsolated from the registry module it is named', async () => {
    const file = writeConfig(`${HOMEPAGE}widgets:\n  - { name: latency, show: homepage.total_ms, when: "homepage.up == 1" }\n`);
    const isolated = await loadConfigIsolated(file, { registryModule: require.resolve('./widgets-section'), env: {} });
    const direct = loadConfig(file, { ...registry, sections: [widgetsSection], env: {} });
    assert.deepEqual(isolated.config, direct.config);
    assert.equal(isolated.config.widgets![0].show, 'homepage.total_ms');
  });
});

describe('config sections: composition', () => {
  it('puts the core sections first, in order, and a core section given again once', () => {
    assert.deepEqual(resolveSections([blocksSection, widgetsSection]).map((s) => s.key), ['node', 'storage', 'shared', 'blocks', 'widgets']);
    assert.deepEqual(resolveSections([panelsSection, widgetsSection]).map((s) => s.key), ['node', 'storage', 'shared', 'blocks', 'widgets', 'panels']);
    assert.deepEqual(registry.sections.slice(0, 4), coreSections);
  });

  const wrong: Array<[string, ConfigSection[], string]> = [
    ['a key registered by two sections', [widgetsSection, { ...widgetsSection }], 'config section "widgets" is registered twice, or its key is reserved'],
    ['a core key taken by another section', [{ ...blocksSection }], 'config section "blocks" is registered twice, or its key is reserved'],
    ['a reserved key', [{ ...widgetsSection, key: 'file' as 'widgets' }], 'config section "file" is registered twice, or its key is reserved'],
    [
      'sections that run after each other',
      [{ ...widgetsSection, after: ['panels'] }, panelsSection],
      'config sections run after each other in a loop: widgets → panels → widgets',
    ],
  ];
  for (const [name, sections, message] of wrong) {
    it(`refuses ${name} (REMON_ERR_CONFIG_SECTION)`, () => {
      assert.throws(() => loadConfig('monitor.yaml', { ...registry, sections, text: HOMEPAGE }), { code: 'REMON_ERR_CONFIG_SECTION', message });
    });
  }

  it('refuses two sections defining one #/definitions name differently', () => {
    const other: ConfigSection<'panels'> = { ...panelsSection, after: [], definitions: { widgetName: { type: 'string' } } };
    assert.throws(() => loadConfig('monitor.yaml', { ...registry, sections: [widgetsSection, other], text: HOMEPAGE }), {
      code: 'REMON_ERR_CONFIG_SECTION',
      message: 'config section "panels" defines #/definitions/widgetName differently from another section',
    });
  });

  it('src/config imports neither blocks/ nor the registry: they are passed in', () => {
    const dir = path.join(ROOT, 'src', 'config');
    const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 10);
    for (const f of files) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const target = path.resolve(path.dirname(path.join(dir, f)), m[1]);
        assert.ok(!target.startsWith(path.join(ROOT, 'blocks')) && target !== path.join(ROOT, 'src', 'registry'), `${f} imports ${m[1]}`);
      }
    }
  });
});

describe('config sections: the published schema', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'monitor.schema.json'), 'utf8'));
  const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
  ajv.addVocabulary(['x-expected', 'x-block-type']);
  const validate = ajv.compile(schema);
  const samples = ['monitor.yaml', ...fs.readdirSync(path.join(ROOT, 'blocks')).filter((d) => fs.existsSync(path.join(ROOT, 'blocks', d, 'sample.yaml'))).map((d) => `blocks/${d}/sample.yaml`)];

  it('covers the example and every block type\'s sample', () => assert.ok(samples.length >= 6, samples.join(', ')));
  for (const sample of samples) {
    it(`compiles in ajv strict mode and accepts ${sample}`, () => {
      const doc = parseDocument(fs.readFileSync(path.join(ROOT, sample), 'utf8'), { merge: true }).toJS();
      assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
    });
  }

  it('rejects a block of an unknown type with a bad common key (every)', () => {
    assert.equal(validate({ blocks: [{ name: 'a', type: 'shel', command: 'x', every: '5x' }] }), false);
    assert.deepEqual(validate.errors!.map((e) => e.instancePath).filter((p) => p !== '/blocks/0').sort(), ['/blocks/0/every', '/blocks/0/type']);
  });
});

