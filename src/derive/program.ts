import type { SeriesEval, SeriesExpr } from '../series';
import type { DeriveConfig } from './section';

/**
 * Program is one derived series while the node runs: its config, compiled expression and
 * run (the instance fed with samples). What changes per sample is kept elsewhere, so that
 * the hot path reaches few objects: its numbers in the deriver's one array of numbers (a
 * row by id, below), and what a sample needs to reach the run in its Readers.
 */
export class Program {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly run: SeriesEval;
  /** Its row in the deriver's numbers (renumbered when a reload changes the programs). */
  id = 0;
  /** Position in evaluation order: after every derived series it reads. */
  order = 0;
  /** Derived series that read this one, each with the input this one is to it. */
  dependents: Reader | undefined;
  rebuilding = false;
  error?: string;

  constructor(readonly config: DeriveConfig, readonly expr: SeriesExpr) {
    this.name = config.name;
    this.inputs = expr.inputs;
    this.run = expr.instantiate();
  }
}

/**
 * Reader is a program that reads a series, as its input `input` (its index in the
 * program's inputs), with what feeding and evaluating it takes (its run, row, order, name
 * and dependents), so that a sample does not go through the Program. Readers are chained,
 * one small object a link: by block, by series, and as a program's dependents.
 */
export interface Reader {
  readonly series: string;
  /** The series name's length: most samples of a result are told apart without reaching the name. */
  readonly length: number;
  readonly input: number;
  readonly run: SeriesEval;
  readonly id: number;
  readonly order: number;
  readonly name: string;
  dependents: Reader | undefined;
  readonly program: Program;
  readonly next: Reader | undefined;
}

/** chain links readers of `series` (in the order given) in front of `next`. */
export function chain(series: string, programs: readonly Program[], next: Reader | undefined): Reader | undefined {
  for (let i = programs.length - 1; i >= 0; i--) {
    const p = programs[i];
    next = { series, length: series.length, input: p.inputs.indexOf(series), run: p.run, id: p.id, order: p.order, name: p.name, dependents: undefined, program: p, next };
  }
  return next;
}

/**
 * Touched is the list of programs a message touched (a reader of each), in evaluation
 * order, reused from message to message.
 */
export class Touched {
  readonly list: Reader[] = [];
  length = 0;

  clear(): void {
    this.length = 0;
  }

  /** insert puts r in order, searching from the end (where it mostly goes). */
  insert(r: Reader): void {
    const list = this.list;
    let i = this.length++;
    while (i > 0 && list[i - 1].order > r.order) {
      list[i] = list[i - 1];
      i--;
    }
    list[i] = r;
  }
}

// A program's numbers, at id × STRIDE: one cache line.
/** The pass (message) that last touched it. */
export const MARK = 0;
/** The newest sample time of that pass. */
export const AT = 1;
/** Time of the last sample published: each is later than the one before. */
export const LAST_OUT = 2;
/** The heartbeat hint of its samples: the longest of its inputs'. */
export const HEARTBEAT = 3;
/** The last evaluation's time (NaN: none yet) and value (NaN: unknown). */
export const LAST_AT = 4;
export const LAST_VALUE = 5;
/** Evaluations, and samples published (evaluations whose value was known). */
export const EVALUATIONS = 6;
export const SAMPLES = 7;
export const STRIDE = 8;

/** numbersFor makes the numbers of `programs` (ids 0..n-1 in order), carrying over those of programs kept from `old`. */
export function numbersFor(programs: readonly Program[], old: Float64Array, kept: ReadonlySet<Program>): Float64Array {
  const n = new Float64Array(programs.length * STRIDE);
  programs.forEach((p, id) => {
    const k = id * STRIDE;
    if (kept.has(p)) n.set(old.subarray(p.id * STRIDE, p.id * STRIDE + STRIDE), k);
    else {
      n[k + AT] = NaN;
      n[k + LAST_OUT] = -Infinity;
      n[k + LAST_AT] = NaN;
      n[k + LAST_VALUE] = NaN;
    }
  });
  programs.forEach((p, id) => { p.id = id; });
  return n;
}
