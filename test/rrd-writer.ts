/**
 * A child process for the kill -9 test: writes one GAUGE sample per series per 10 s of
 * simulated time (value k at start + 10k s) through RrdStore, and reports each batch
 * after write() returned, over IPC. Checkpoints run every 20 ms, so kills land mid-flush.
 */
import { silentLogger } from '../src/log';
import { RrdStore } from '../src/store/rrd/store';

const [dir, seriesText, startText, fromText] = process.argv.slice(2);
const series = Number(seriesText);
const start = Number(startText);
let k = Number(fromText);
const store = new RrdStore({ dir, retention: ['10s:1h'], log: silentLogger(), flushIntervalMs: 20 });

function batch(): void {
  const t = (start + k * 10) * 1000;
  const samples = [];
  for (let i = 0; i < series; i++) samples.push({ series: `s${i}.value`, t, value: k, kind: 'gauge' as const, heartbeat: 20 });
  store.write(samples);
  process.send!({ k });
  k++;
  if (k < 300) setImmediate(batch);
}
batch();
