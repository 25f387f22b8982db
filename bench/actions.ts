/**
 * Bounded-actions benchmark (issue 15, monscale's scaling actions): how long one decision
 * takes on each shared backend. A decision takes the action's shared lock, reads its runs
 * from shared state, gates them, reads the guard (a counter) and releases the lock: five
 * round trips on Redis. The guard is at its max, so every decision is declined and
 * recorded (on the alert log) without starting a process, and the figure is the decision
 * alone. Beside it, the same five shared operations issued one after another without the
 * runner, so the runner's own cost shows as the difference. Medians of BENCH_ACTIONS_REPS.
 *
 *   BENCH_ONLY=actions npm run bench
 *   BENCH_ACTIONS_N=2000 node dist/bench/actions.js
 */
import { performance } from 'node:perf_hooks';
import { ActionRunner } from '../src/alerts/action-runner';
import { buildAction } from '../src/alerts/actions';
import type { Alert, AlertRecord } from '../src/alerts/types';
import { realClock } from '../src/clock';
import { silentLogger } from '../src/log';
import { createMemoryShared } from '../src/shared/memory';
import { createRedisShared } from '../src/shared/redis';
import type { Shared } from '../src/shared/shared';
import { redisServerPath, startRedis } from '../test/shared-redis';
import { median, table } from './stats';

const N = Number(process.env.BENCH_ACTIONS_N ?? 3000);
const REPS = Number(process.env.BENCH_ACTIONS_REPS ?? 3);

/** decisionsPerSecond runs N declined decisions one after another through an ActionRunner. */
async function decisionsPerSecond(shared: Shared): Promise<number> {
  await shared.counters.set('web_nodes', 10);
  const action = buildAction({ run: 'true', guard: { counter: 'web_nodes', max: 10, step: 1 } });
  const alert = { id: '1', sla: 'web-slow', source: 'sla', state: 'firing', quiet: false, value: 0.4, message: 'web (0.4) >= 0.8', actions: [] } as unknown as Alert;
  let written = 0;
  const pending: Array<Promise<unknown>> = [];
  const runner = new ActionRunner({
    clock: realClock, log: silentLogger(), shared, counts: { actions: 0, actionFailures: 0 },
    node: () => 'bench', actions: () => [action], alert: () => alert, times: () => [],
    write: (_r: AlertRecord) => {
      written++;
    },
    suppressedWhy: () => undefined,
    payload: () => { throw new Error('no run expected'); },
    track: (p) => pending.push(p),
  });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    runner.fired(alert);
    await pending.pop();
  }
  const s = (performance.now() - t0) / 1000;
  runner.stop();
  if (written !== N) throw new Error(`recorded ${written} decisions of ${N}`);
  return N / s;
}

/** bareOpsPerSecond issues the decision's shared operations in the same order, without the runner. */
async function bareOpsPerSecond(shared: Shared): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const lock = await shared.locks.acquire('remon.action:bare', { ttlMs: 30_000, waitMs: 5000 });
    await shared.state.get('remon.actions', 'bare');
    await shared.counters.get('web_nodes');
    await shared.locks.release(lock);
  }
  return N / ((performance.now() - t0) / 1000);
}

export async function benchActions(): Promise<string> {
  const rows: Array<Array<string | number>> = [];
  const measure = async (name: string, make: () => Shared): Promise<void> => {
    const dec: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const s = make();
      try {
        // Both warm up first (connection, JIT); then the order alternates between repetitions.
        await decisionsPerSecond(s);
        await bareOpsPerSecond(s);
        if (r % 2 === 0) {
          dec.push(await decisionsPerSecond(s));
          bare.push(await bareOpsPerSecond(s));
        } else {
          bare.push(await bareOpsPerSecond(s));
          dec.push(await decisionsPerSecond(s));
        }
      } finally {
        await s.close();
      }
    }
    const d = median(dec);
    const b = median(bare);
    rows.push([name, Math.round(d), (1000 / d).toFixed(3), Math.round(b), (d / b).toFixed(2)]);
  };
  await measure('memory', () => createMemoryShared());
  if (redisServerPath()) {
    const server = await startRedis();
    let n = 0;
    try {
      await measure('redis', () => createRedisShared({ url: server.url, prefix: `benchact${++n}:` }));
    } finally {
      await server.stop();
    }
  } else {
    rows.push(['redis', 'skipped: redis-server is not installed', '', '', '']);
  }
  return table(`bounded actions: one decision (lock, runs, guard read, record, release), ${N} in sequence, median of ${REPS}`,
    ['backend', 'decisions/s', 'ms/decision', 'bare shared ops (same calls)/s', 'runner vs bare'], rows);
}

if (require.main === module) {
  benchActions().then((t) => console.log(t)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
