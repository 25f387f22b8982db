import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigIsolated } from '../src/config/isolated';
import { ConfigError, loadConfig } from '../src/config/load';
import { registry, REGISTRY_MODULE } from '../src/registry';
import { tmpDir, writeConfig } from './helpers';

describe('config loaded in a worker thread (remon run)', () => {
  it('gives the same frozen config as loadConfig, with user block types loaded', async () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'types', 'dice'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'types', 'dice', 'index.js'),
      "module.exports = { type: 'dice', description: '', schema: { properties: { sides: { type: 'integer' } } }, create: (o) => ({ run: async () => ({ fields: { roll: o.sides } }) }) };");
    const file = writeConfig(
      'node: { block_dirs: [types], token: "${T}" }\nblocks:\n' +
        '  - { name: d, type: dice, sides: 6, pipe: [ { if: "roll > 3", then: [ { increment: high } ] } ] }\n' +
        '  - { name: s, type: shell, command: "true", every: 5s }\n',
      dir,
    );
    const env = { T: 'tok' };
    const isolated = await loadConfigIsolated(file, { registryModule: REGISTRY_MODULE, env });
    const direct = loadConfig(file, { ...registry, env });
    assert.deepEqual(isolated.config, direct.config);
    assert.ok(Object.isFrozen(isolated.config.blocks[0].pipe[0]));
    assert.equal(isolated.config.node.token, 'tok');
    const dice = isolated.types.get('dice')!;
    const out = await dice.create({ sides: 6 }, {} as never).run({} as never);
    assert.deepEqual(out.fields, { roll: 6 });
  });

  it('reports every problem, as loadConfig does', async () => {
    const file = writeConfig('blocks:\n  - { name: a, type: shell, command: "true", every: 5 }\n  - { name: a, type: shel }\n');
    await assert.rejects(loadConfigIsolated(file, { registryModule: REGISTRY_MODULE }), (err: ConfigError) => {
      assert.equal(err.code, 'REMON_ERR_CONFIG_INVALID');
      assert.equal(err.problems.length, 3);
      assert.throws(() => loadConfig(file, registry), (direct: ConfigError) => direct.message === err.message);
      return true;
    });
  });

  it('reports an unreadable file with its code', async () => {
    await assert.rejects(loadConfigIsolated('/nonexistent/monitor.yaml', { registryModule: REGISTRY_MODULE }), (err: ConfigError) => err.code === 'REMON_ERR_CONFIG_READ');
  });
});
