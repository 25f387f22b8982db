import { FieldKind } from '../../engine/result';
import { parseDuration } from '../../util/duration';
import { RrdFile } from './file';
import { JournalRef } from './journal';
import { CFS, DsType, RrdDef } from './types';

// One series of the RRD store: the names it takes, its definition from storage.retention,
// and the updates queued for its file.

const SERIES = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;
/** DS_TYPE: the RRD data-source type of each field kind. */
export const DS_TYPE: Record<FieldKind, DsType> = {
  gauge: 'GAUGE',
  counter: 'COUNTER',
  derive: 'DERIVE',
  absolute: 'ABSOLUTE',
  dcounter: 'DCOUNTER',
  dderive: 'DDERIVE',
};

/** validName: a series name the store takes (also a safe file name). */
export function validName(name: string): boolean {
  return SERIES.test(name) && !name.includes('..');
}

/** retentionDef turns storage.retention into an RRD definition for one series. */
export function retentionDef(retention: readonly string[], type: DsType, heartbeat: number): RrdDef {
  const archives = retention.map((r) => {
    const [stepText, spanText] = r.split(':');
    return { step: (parseDuration(stepText) ?? NaN) / 1000, span: (parseDuration(spanText.replace(/(\d+)y$/, (_, n) => `${Number(n) * 365}d`)) ?? NaN) / 1000 };
  });
  const step = Math.min(...archives.map((a) => a.step));
  const rra = archives.flatMap((a) => {
    const pdpCnt = Math.max(1, Math.round(a.step / step));
    const rows = Math.max(1, Math.round(a.span / (pdpCnt * step)));
    return CFS.map((cf) => ({ cf, xff: 0.5, pdpCnt, rows }));
  });
  return { step, ds: [{ name: 'value', type, heartbeat: Math.max(heartbeat, 2 * step), min: NaN, max: NaN }], rra };
}

/** Series is one series' file (once created), its queue of updates not yet applied, and its number in the journal. */
export class Series implements JournalRef {
  file?: RrdFile;
  t = new Float64Array(4);
  v = new Float64Array(4);
  n = 0;
  jid = 0;
  jgen = 0;
  constructor(readonly name: string, readonly kind: FieldKind, readonly heartbeat: number) {}
  push(t: number, v: number): void {
    if (this.n === this.t.length) {
      const t2 = new Float64Array(this.n * 2);
      const v2 = new Float64Array(this.n * 2);
      t2.set(this.t);
      v2.set(this.v);
      this.t = t2;
      this.v = v2;
    }
    this.t[this.n] = t;
    this.v[this.n++] = v;
  }
}
