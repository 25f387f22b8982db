import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSimpleYaml } from '../src/config/fast-yaml';
import { expandEnv } from '../src/config/env';
import { loadConfig, loadConfigFast } from '../src/config/load';
import { parseYaml } from '../src/config/yaml';
import { registry } from '../src/registry';

const ROOT = path.resolve(__dirname, '..', '..');
const ENV = { X: '1', E: '', S: 'a b', HOME: '/root', T: 'tok', PORT: '8080' };

/** full is what the full parser gives for text: its plain value, or undefined when it reports a problem. */
function full(text: string): { value?: unknown; problem: boolean } {
  const parsed = parseYaml(text);
  if (parsed.problems.length) return { problem: true };
  if (expandEnv(parsed.doc, ENV).problems.length) return { problem: true };
  try {
    return { value: parsed.doc.toJS({ maxAliasCount: 1000 }), problem: false };
  } catch {
    return { problem: true };
  }
}

/** same asserts that whenever the fast parser answers, the full parser found no problem and gives the same value. */
function same(text: string): 'same' | 'left' {
  const fast = parseSimpleYaml(text, ENV);
  if (fast === undefined) return 'left';
  const f = full(text);
  assert.equal(f.problem, false, `the fast parser accepted what the full parser refuses:\n${text}`);
  assert.deepEqual(fast, f.value, `the fast parser read differently:\n${text}`);
  return 'same';
}

const REPO_YAML = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');

describe('config: the fast path for plain YAML (parseSimpleYaml)', () => {
  it('reads every YAML file of the repository as the full parser does, or leaves it to it', () => {
    const counts = { same: 0, left: 0 };
    for (const f of REPO_YAML) counts[same(fs.readFileSync(path.join(ROOT, f), 'utf8'))]++;
    // Most files are in the subset (the fast path is not dead code), some are not.
    assert.ok(counts.same > REPO_YAML.length / 2, JSON.stringify(counts));
    assert.ok(counts.left > 0, JSON.stringify(counts));
  });

  it('reads scalars, quotes, flow collections, comments and ${VAR} as the full parser does', () => {
    const read = [
      'a: { b: 1.50, c: 0x1f, d: 0o17, e: .inf, f: -.INF, g: .nan, h: 1e3, i: +5, j: ~, k: Null, l: TRUE, m: 08, n: 1_000 }',
      'a: [ [1, 2], {x: y}, "q", \'it\'\'s\', 10s:1d, http://x:80/ ]',
      'key with space: v\n"quoted key": 1\n-a: -1\nb: -x\nc: x:y\nd: b#c\ne: b # comment\nf:\n',
      'a: "\\u00e9\\x41\\t\\"\\\\"\nb: \'\'\nc: ""\nd: []\ne: {}\nf: {g: , h: 1}',
      'a: ${X}\nb: "${X}"\nc: x${X}y\nd: \'$${\'\ne: ${E:-def}\nf: ${NOPE:-}\ng: ${S}\nh: [x, "${X}"]',
      'x:\n  y:\n    z: 1\n  w: 2\nv: 3\nlist:\n- 1\n- 2\nnested:\n  - b: 1\n    c: 2\n  - d\n  -\n    e: 1\n  -\n  - - f\n    - g',
      '# only a comment first\n\n  # indented comment\nblocks:\n  - { name: a, type: shell, command: "true" }   # trailing\n',
      '  a: 1\n  b: 2\n',
    ];
    for (const text of read) assert.equal(same(text), 'same', text);
  });

  it('leaves to the full parser what it does not read, and every mistake', () => {
    const left = [
      'a: b: c', 'a:b', '- a\n  b', "a: 'x'y", 'a: [1,]', 'a: - b', 'a: [a: 1]', 'a: {b}', 'a: 1\n b: 2', 'a: 1\na: 2',
      'a: "unterminated', 'a: [1, 2', 'a: }', '1: a', 'true: a', '<<: {a: 1}', 'a: &x 1\nb: *x', 'a: !!str 1', 'a: |\n  text',
      'a: >-\n  text', '---\na: 1', 'a:\n\tb: 1', 'a: 1\r\nb: 2', 'a: ${NOPE}', 'a: { b: ${X} }', 'a: "\\q"', '? a\n: b',
      '__proto__: 1', 'a: @x', 'a: `x`', 'a:\n  - b\n  c: 1',
    ];
    for (const text of left) assert.equal(parseSimpleYaml(text, ENV), undefined, text);
  });

  it('agrees with the full parser on thousands of mangled config files (seeded)', () => {
    const files = REPO_YAML.map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8'));
    const bits = [' ', ':', ': ', '-', '- ', '#', ' #', "'", '"', '{', '}', '[', ']', ',', '\n', '\n  ', '\n- ', '&a', '*a', '!', '|', '>',
      '${X}', '${NOPE}', '$${', '\\', '\\n', '0x1F', '1.50', '-5', '~', 'null', 'True', '<<: ', '? ', '---\n', '%', '@', '`', 'é', '  ',
      'x: y', '"a": 1', "'it''s'", '1e3', '.inf', '0o17', '+1', '.5'];
    let seed = 16;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return Math.floor((seed / 0x7fffffff) * n);
    };
    const counts = { same: 0, left: 0 };
    for (let k = 0; k < 3000; k++) {
      let t = files[rnd(files.length)];
      for (let j = rnd(3); j >= 0; j--) {
        const p = rnd(t.length);
        const op = rnd(10);
        if (op < 5) t = t.slice(0, p) + bits[rnd(bits.length)] + t.slice(p);
        else if (op < 8) t = t.slice(0, p) + t.slice(p + 1 + rnd(3));
        else {
          const q = rnd(t.length);
          t = t.slice(0, p) + t.slice(q, q + 5) + t.slice(p);
        }
      }
      counts[same(t)]++;
    }
    assert.ok(counts.same > 500 && counts.left > 500, JSON.stringify(counts));
  });

  it('gives the same frozen Config as the full path, and nothing for a file with a problem', () => {
    const text = 'node: { name: n1, token: "${T}" }\nstorage: { kind: memory }\nblocks:\n' +
      '  - { name: a, type: shell, command: "true", every: 5s, pipe: [ { if: "up > 0", then: [ { increment: ups } ] } ] }\n' +
      '  - name: b\n    type: shell\n    command: echo 1\n    timeout: 2s\n';
    const fast = loadConfigFast('/srv/remon/monitor.yaml', { ...registry, text, env: ENV });
    assert.ok(fast, 'the fast path takes a plain file');
    // The same file through the full parser: a block scalar keeps it out of the subset.
    const slowText = text.replace('command: echo 1', 'command: |-\n      echo 1');
    assert.equal(parseSimpleYaml(slowText, ENV), undefined);
    const slow = loadConfig('/srv/remon/monitor.yaml', { ...registry, text: slowText, env: ENV });
    assert.deepEqual(fast.config, slow.config);
    assert.ok(Object.isFrozen(fast.config.blocks[0].pipe[0]));
    assert.equal(loadConfigFast('/srv/remon/monitor.yaml', { ...registry, text: 'blocks:\n  - { name: a, type: shel }\n', env: ENV }), undefined);
  });
});
