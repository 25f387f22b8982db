/**
 * A child process for the kill -9 test: writes one GAUGE sample per series per 10 s of
 * simulated time (value k at start + 10k s) through RrdStore, and reports each batch
 * after write() returned, over IPC. Checkpoints run every 20 ms, so kills land mid-flush.
 * Optional: the batch to stop before (300) and the checkpoint interval in ms; it then
 * exits without closing the store, as a killed node would.
 */
import { silentLogger } from '../src/log';
import { RrdStore } from '../src/store/rrd/store';

const [dir, seriesText, startText, fromText, untilText, flushText] = process.argv.slice(2);
const until = Number(untilText ?? 300);
const series = Number(seriesText);
const start = Number(startText);
let k = Number(fromText);
const store = new RrdStore({ dir, retention: ['10s:1h'], log: silentLogger(), flushIntervalMs: Number(flushText ?? 20) });

function batch(): void {
  const t = (start + k * 10) * 1000;
  const samples = [];
  for (let i = 0; i < series; i++) samples.push({ series: `s${i}.value`, t, value: k, kind: 'gauge' as const, heartbeat: 20 });
  store.write(samples);
  process.send!({ k });
  k++;
  if (k < until) setImmediate(batch);
  else if (untilText !== undefined) process.exit(0);
}
batch();
