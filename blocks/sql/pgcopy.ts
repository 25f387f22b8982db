// A PostgreSQL key query run as `COPY (<query>) TO STDOUT`: the rows come as text, one
// CopyData message a row, and are read straight from the bytes (pgcopy-text.ts), so that no
// row object, value array or Date is made per row: of a row only its key string is made.
// node-postgres's own row path costs about three times as much per row (issue 15).
//
// COPY takes no bind parameters, so `:since` is inlined as a timestamptz literal remon
// makes itself (sinceLiteral: digits and ISO punctuation only, never text from a user), and
// COPY gives neither column names nor types: the query is described first, as
// `SELECT * FROM (<query>) LIMIT 0` (planned, not run). A key query is copied only when the
// text COPY prints for its key and ts columns reads to what node-postgres's path makes of
// them (keyText, timestampMs): same keys recorded, whichever path ran. Anything else (a
// numeric query, a query that is not a SELECT, a key of another type) answers why not and
// runs the normal way.
import type { Client, FieldDef } from 'pg';
import { types } from 'pg';
import { CopyOut } from './pgcopy-out';
import { KeyRowReader, TsKind } from './pgcopy-text';
import { PG_TIMESTAMP, PG_TIMESTAMPTZ } from './pgtime';

/** KeySink takes a copied key query: its column names once, then each row's key (undefined for NULL) and ts in epoch ms (NaN when unusable). */
export interface KeySink {
  /** copying: the result comes by COPY (called before the COPY is sent, after the describe). */
  copying(): void;
  columns(names: string[]): void;
  keyRow(key: string | undefined, ts: number): void;
}

/** INT_KEYS: integer types node-postgres reads as numbers (int2, int4, oid) or digits (int8): printed as COPY prints them. */
const INT_KEYS = new Set([20, 21, 23, 26]);
/** NUMERIC_TS: number types (int8, int2, int4, oid, float4, float8, numeric): timestampMs reads their text as it reads their value. */
const NUMERIC_TS = new Set([20, 21, 23, 26, 700, 701, 1700]);
const noParse = types.getTypeParser(0 as never, 'text');
/** textLike: node-postgres hands the text over as it came (text, varchar, uuid, enums, numeric...). */
const textLike = (oid: number): boolean => types.getTypeParser(oid as never, 'text') === noParse;

/** tsKind is how a ts column of type oid is read from its text, or undefined when it cannot be read as the normal path reads it. */
function tsKind(oid: number): TsKind | undefined {
  if (oid === PG_TIMESTAMP || oid === PG_TIMESTAMPTZ) return 'pg';
  if (NUMERIC_TS.has(oid) || textLike(oid)) return 'text';
  return undefined;
}

/** SINCE_ISO: what Date.toISOString prints for years 0001-9999 (PostgreSQL has no year 0). */
const SINCE_ISO = /^(?!0000)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** sinceLiteral is `:since` as a quoted timestamptz literal, or undefined for a date COPY cannot be given (then the normal path binds it). */
export function sinceLiteral(d: Date): string | undefined {
  const t = d.getTime();
  if (!Number.isFinite(t)) return undefined;
  const iso = d.toISOString();
  return SINCE_ISO.test(iso) ? `'${iso}'::timestamptz` : undefined;
}

/** COPYABLE: a query that can be a subquery: SELECT, WITH, VALUES, TABLE (maybe in parentheses). */
const COPYABLE = /^\s*(?:\(\s*)*(?:select|with|values|table)\b/i;

/** bare is a query without the trailing semicolons and blanks a subquery cannot hold. */
const bare = (q: string): string => q.replace(/[\s;]+$/, '');

/** fallsBack: errors of a described query that the normal path should meet itself (syntax, names, rights, not supported in a subquery). */
const fallsBack = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('42') || code.startsWith('0A'));
};

/**
 * copyKeys runs query (`:since` inlined) by COPY into sink when it is a key query that can
 * be (keys: the block's `keys` option), answering true; else why not, having run nothing
 * but the describe and handed sink nothing. Errors of the COPY itself are node-postgres's.
 */
export async function copyKeys(client: Client, query: string, keys: boolean | undefined, sink: KeySink): Promise<true | string> {
  if (keys === false) return 'a numeric query';
  if (!COPYABLE.test(query)) return 'not a SELECT, WITH, VALUES or TABLE query';
  const q = bare(query);
  let fields: FieldDef[];
  try {
    // rowMode 'array': no object per row (there are none); the fields are what is wanted.
    fields = (await client.query({ text: `SELECT * FROM (\n${q}\n) AS remon_keys LIMIT 0`, rowMode: 'array' })).fields;
  } catch (err) {
    if (fallsBack(err)) return `not as a subquery: ${(err as Error).message}`;
    throw err;
  }
  const names = fields.map((f) => f.name);
  if (!(keys ?? (names.includes('key') && names.includes('ts')))) return 'a numeric query';
  const ki = names.indexOf('key');
  const ti = names.indexOf('ts');
  if (ki < 0 || ti < 0) return 'no key and ts columns'; // the normal path says so in the run
  const keyOid = fields[ki].dataTypeID;
  const ts = tsKind(fields[ti].dataTypeID);
  if (!(INT_KEYS.has(keyOid) || textLike(keyOid))) return `key of type oid ${keyOid} (COPY prints it unlike node-postgres)`;
  if (ts === undefined) return `ts of type oid ${fields[ti].dataTypeID} (COPY prints it unlike node-postgres)`;
  sink.copying();
  sink.columns(names);
  const reader = new KeyRowReader(ki, ti, names.length, ts, sink);
  await new Promise<void>((resolve, reject) => {
    client.query(new CopyOut(`COPY (\n${q}\n) TO STDOUT`, reader, resolve, reject) as never);
  });
  return true;
}
