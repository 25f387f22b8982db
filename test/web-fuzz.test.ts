import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { registry } from '../src/registry';
import { freePort, tmpDir, writeConfig } from './helpers';
import { Answer, request, Rng, send } from './fuzz-http';
import { probeBlock } from './probe-block';

const REQUESTS = Number(process.env.REMON_FUZZ_REQUESTS ?? 10_000);
const SEED = Number(process.env.REMON_FUZZ_SEED ?? 20261202);
const PARALLEL = 32;

describe('web: 10,000 malformed and hostile requests (test/fuzz-http.ts)', function () {
  this.timeout(180_000);

  it(`gives no 5xx, logs no request failure, and leaves the node healthy (seed ${SEED})`, async () => {
    const port = await freePort();
    const token = 'fuzz-token';
    const errors: Array<Record<string, unknown>> = [];
    const out = new Writable({
      write(chunk, _e, done) {
        const line = JSON.parse(String(chunk)) as Record<string, unknown>;
        if ((line.level as number) >= 50) errors.push(line);
        done();
      },
    });
    const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}", token: ${token} }\n` +
      'blocks:\n  - { name: d, type: probe, every: 100ms, value: 1 }\n  - { name: job, type: heartbeat, period: 1h }\n';
    // The default store (rrd), from a file (so /api/reload reloads), as a user runs it.
    const file = writeConfig(text);
    const load = (): ReturnType<typeof loadConfig> => loadConfig(file, { ...registry, extraTypes: [probeBlock] });
    const e = new Engine({ ...load(), log: pino({ level: 'warn' }, out), plugins: registry.plugins, loadConfig: async () => load() });
    await e.start();
    try {
      const rng = new Rng(SEED);
      const counts = new Map<number, number>();
      const fivexx: Array<{ req: string; answer: Answer }> = [];
      const rss0 = process.memoryUsage().rss;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < REQUESTS) {
          next++;
          const bytes = request(rng, port, token);
          const answer = await send(port, bytes);
          counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
          if (answer.status >= 500) fivexx.push({ req: bytes.toString('latin1').slice(0, 300), answer });
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      const summary = [...counts].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ');
      assert.deepEqual(fivexx.slice(0, 5), [], `5xx answers (${fivexx.length}); statuses ${summary}`);
      assert.deepEqual(errors.map((l) => `${l.msg} ${l.err ?? ''} ${l.path ?? ''}`).slice(0, 5), [], 'errors logged');
      // Most requests got an answer (broken HTTP may get none, or a 400 from the parser).
      assert.ok((counts.get(0) ?? 0) < REQUESTS * 0.1, `no answer to ${counts.get(0)} requests; ${summary}`);
      assert.ok((counts.get(200) ?? 0) > REQUESTS * 0.05, `few 200s; ${summary}`);
      // Healthy afterwards: it answers, its blocks run, its store is ok, it did not bloat.
      const runs = e.blockStatus('d')!.runs;
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200);
      await new Promise((r) => setTimeout(r, 400));
      assert.ok(e.blockStatus('d')!.runs > runs, 'the blocks still run');
      assert.equal(e.store.status().state, 'ok');
      assert.ok(process.memoryUsage().rss - rss0 < 300 * 2 ** 20, `RSS grew by ${Math.round((process.memoryUsage().rss - rss0) / 2 ** 20)} MB`);
      console.log(`      ${REQUESTS} requests, seed ${SEED}: ${summary}`);
    } finally {
      await e.stop();
    }
  });
});
