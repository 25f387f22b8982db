/**
 * A job's signal as a journal record (types.ts HbRecord) and its JSON text: both are made
 * for every signal, on the hot path of /hb/NAME, so they are built directly.
 */
import { HbRecord, Signal } from './types';

/** SignalRecord is the journal record of a job's signal. */
export type SignalRecord = Extract<HbRecord, { k: 'ok' | 'start' | 'fail' }>;

/**
 * signalRecord is a signal's journal record, its keys in the journal's order (k n t r b x).
 * It is made for every signal, so it is built key by key (spreading a `false` costs more).
 */
export function signalRecord(name: string, t: number, sig: Signal): SignalRecord {
  const exit = sig.kind === 'exit';
  const k = sig.kind === 'start' ? 'start' : sig.kind === 'success' || (exit && sig.exitCode === 0) ? 'ok' : 'fail';
  const rec: { k: SignalRecord['k']; n: string; t: number; r?: string; b?: string; x?: number } = { k, n: name, t };
  if (sig.rid !== undefined) rec.r = sig.rid;
  if (sig.body) rec.b = sig.body;
  if (exit) rec.x = sig.exitCode;
  return rec as SignalRecord;
}

/**
 * signalText is JSON.stringify(rec), in half the time, for a record whose name and run id
 * the hub checked (NAME_PATTERN, RID_PATTERN: nothing in them needs an escape); a body
 * goes through JSON.stringify. Undefined for a time JSON cannot hold as a number.
 */
export function signalText(rec: SignalRecord): string | undefined {
  if (!Number.isFinite(rec.t)) return undefined;
  let text = `{"k":"${rec.k}","n":"${rec.n}","t":${rec.t}`;
  if (rec.r !== undefined) text += `,"r":"${rec.r}"`;
  if (rec.b !== undefined) text += `,"b":${JSON.stringify(rec.b)}`;
  if ('x' in rec && rec.x !== undefined) text += `,"x":${rec.x}`;
  return `${text}}`;
}
