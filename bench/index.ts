/**
 * `npm run bench`: every benchmark, each printing a table. BENCH_ONLY=scheduler runs one.
 */
import { benchActions } from './actions';
import { benchAlerts } from './alerts';
import { benchBus } from './bus';
import { benchCluster } from './cluster';
import { benchDashboard } from './dashboard';
import { benchDerive } from './derive';
import { benchHeartbeat } from './heartbeat';
import { benchHttp } from './http';
import { benchInflux } from './influx';
import { benchLive } from './live';
import { benchNode } from './node';
import { benchPages } from './pages';
import { benchPing } from './ping';
import { benchRpc } from './rpc';
import { benchRrd } from './rrd';
import { benchScheduler } from './scheduler';
import { benchShared } from './shared';
import { benchSla } from './sla';
import { benchSnmp } from './snmp';
import { benchTrap } from './trap';
import { benchSql } from './sql';

const benches: Array<[string, () => Promise<string>]> = [
  ['scheduler', benchScheduler],
  ['node', benchNode],
  ['bus', benchBus],
  ['derive', benchDerive],
  ['rrd', benchRrd],
  ['influx', benchInflux],
  ['heartbeat', benchHeartbeat],
  ['shared', benchShared],
  ['http', benchHttp],
  ['snmp', benchSnmp],
  ['trap', benchTrap],
  ['sql', benchSql],
  ['ping', benchPing],
  ['sla', benchSla],
  ['alerts', benchAlerts],
  ['actions', benchActions],
  ['live', benchLive],
  ['pages', benchPages],
  ['dashboard', benchDashboard],
  ['cluster', benchCluster],
  ['rpc', benchRpc],
];

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',');
  console.log(`# remon benchmarks — node ${process.version}, ${new Date().toISOString()}`);
  for (const [name, run] of benches) {
    if (only && !only.includes(name)) continue;
    console.log(await run());
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
