/**
 * SNMP benchmark (issue: probe blocks). GETs per second of the snmp block (one OID,
 * sysUpTime, per run) against a local snmpd, beside the `snmpget` tool run in a loop (a
 * process per GET, the way a monitor that shells out does it), for v2c and v3 authPriv,
 * one at a time and with several in flight (separate blocks, each its own session, like
 * separate targets). Each figure is the median of 3 trials; the sides alternate.
 *
 *   node dist/bench/snmp.js
 *   BENCH_SNMP_SECONDS=5 BENCH_SNMP_CONCURRENCY=1,32 node dist/bench/snmp.js
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { snmpBlock, SnmpOptions } from '../blocks/snmp';
import { silentLogger } from '../src/log';
import { createMemoryShared } from '../src/shared/memory';
import { Snmpd, SNMPD_V3, snmpdPath, snmpgetPath, startSnmpd } from '../test/snmpd-server';
import { median, table } from './stats';

const SECONDS = Number(process.env.BENCH_SNMP_SECONDS ?? 3);
const CONCURRENCY = (process.env.BENCH_SNMP_CONCURRENCY ?? '1,16').split(',').map(Number);
const TRIALS = 3;
const OID = '1.3.6.1.2.1.1.3.0';

type Get = () => Promise<void>;

/** remonGets makes `n` snmp blocks (one session each) and returns one get function per block. */
function remonGets(agent: Snmpd, v3: boolean, n: number): { gets: Get[]; close(): void } {
  const log = silentLogger();
  const shared = createMemoryShared();
  const base: SnmpOptions = v3
    ? { name: 'b', host: agent.host, port: agent.port, version: 3, user: SNMPD_V3.user, auth_key: SNMPD_V3.authKey, priv_key: SNMPD_V3.privKey, get: { uptime: OID } }
    : { name: 'b', host: agent.host, port: agent.port, community: agent.community, get: { uptime: OID } };
  const blocks = Array.from({ length: n }, (_, i) =>
    snmpBlock.create({ ...base, name: `b${i}` }, { name: `b${i}`, configDir: '.', dataDir: '.', log, emit: () => undefined }));
  return {
    gets: blocks.map((b) => async () => {
      const r = await b.run({ signal: new AbortController().signal, log, shared });
      if (r.ok === false || !(r.fields!.uptime > 0)) throw new Error(`snmp block failed: ${r.message}`);
    }),
    close: () => blocks.forEach((b) => b.close?.()),
  };
}

/** snmpgetGet runs the snmpget tool once per GET. */
function snmpgetGet(bin: string, agent: Snmpd, v3: boolean): Get {
  const args = v3
    ? ['-v3', '-l', 'authPriv', '-u', SNMPD_V3.user, '-a', 'SHA', '-A', SNMPD_V3.authKey, '-x', 'AES', '-X', SNMPD_V3.privKey]
    : ['-v2c', '-c', agent.community];
  args.push('-Oqv', `${agent.host}:${agent.port}`, OID);
  // Its persistent files go to the agent's temp dir, not /var/lib/snmp.
  const env = { ...process.env, SNMP_PERSISTENT_DIR: `${agent.dir}/client` };
  return () => new Promise<void>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && /\d/.test(out) ? resolve() : reject(new Error(`snmpget exited ${code}: ${out}`))));
  });
}

/** drive runs the gets (one worker per function) for SECONDS: GETs per second and CPU ms per 1000. */
async function drive(gets: Get[]): Promise<{ rate: number; cpu: number }> {
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(gets.map(async (get) => {
    while (performance.now() < end) {
      await get();
      n++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: n / elapsed, cpu: ((cpu.user + cpu.system) / 1000 / n) * 1000 };
}

export async function benchSnmp(): Promise<string> {
  const bin = snmpgetPath();
  if (!snmpdPath() || !bin) return '\n### SNMP\n\nskipped: snmpd or snmpget is not installed (apt-get install snmpd snmp)';
  const agent = await startSnmpd();
  const rows: Array<Array<string | number>> = [];
  try {
    for (const v3 of [false, true]) {
      for (const c of CONCURRENCY) {
        const tool: number[] = [];
        const remon: number[] = [];
        const remonCpu: number[] = [];
        const blocks = remonGets(agent, v3, c);
        try {
          await drive(blocks.gets); // warm-up: JIT, v3 discovery
          for (let t = 0; t < TRIALS; t++) {
            tool.push((await drive(Array.from({ length: c }, () => snmpgetGet(bin, agent, v3)))).rate);
            const r = await drive(blocks.gets);
            remon.push(r.rate);
            remonCpu.push(r.cpu);
          }
        } finally {
          blocks.close();
        }
        const s = median(tool);
        const r = median(remon);
        rows.push([`${v3 ? 'v3 authPriv (SHA/AES)' : 'v2c'}, ${c} in flight`, s, r, r / s, median(remonCpu)]);
      }
    }
  } finally {
    await agent.stop();
  }
  return [
    table(
      `SNMP GETs per second against a local snmpd (sysUpTime; median of ${TRIALS} × ${SECONDS} s; ${os.cpus().length} CPUs)`,
      ['GET', 'snmpget in a loop /s', 'remon snmp block /s', 'remon / snmpget', 'remon CPU ms / 1000'],
      rows,
    ),
    '',
    'snmpget starts a process per GET (and on v3 discovers the engine each time); a remon block keeps its session (one UDP socket).',
  ].join('\n');
}

if (require.main === module) {
  benchSnmp().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
}
