/**
 * OIDs by name: a few well-known scalars, tables and columns of the standard MIBs that
 * every agent (and Net-SNMP's snmpd) has, so a monitor.yaml can say `sysUpTime` or
 * `ifTable` instead of numbers. Anything else is written as a numeric OID. No MIB files
 * are read.
 */
import { suggest } from '../../src/config/messages';

interface Scalar {
  kind: 'scalar';
  oid: string;
}
interface Table {
  kind: 'table';
  oid: string;
}
interface Column {
  kind: 'column';
  /** The table it belongs to. */
  table: string;
  /** Column number under <table>.1 */
  column: number;
}
type Known = Scalar | Table | Column;

const KNOWN = new Map<string, Known>();

function scalars(base: string, names: Record<string, number>): void {
  for (const [name, n] of Object.entries(names)) KNOWN.set(name, { kind: 'scalar', oid: `${base}.${n}` });
}

function table(name: string, oid: string, columns: string[]): void {
  KNOWN.set(name, { kind: 'table', oid });
  columns.forEach((c, i) => {
    if (c) KNOWN.set(c, { kind: 'column', table: name, column: i + 1 });
  });
}

// SNMPv2-MIB system group
scalars('1.3.6.1.2.1.1', { sysDescr: 1, sysObjectID: 2, sysUpTime: 3, sysContact: 4, sysName: 5, sysLocation: 6, sysServices: 7 });
// IF-MIB
scalars('1.3.6.1.2.1.2', { ifNumber: 1 });
table('ifTable', '1.3.6.1.2.1.2.2', [
  'ifIndex', 'ifDescr', 'ifType', 'ifMtu', 'ifSpeed', 'ifPhysAddress', 'ifAdminStatus', 'ifOperStatus', 'ifLastChange',
  'ifInOctets', 'ifInUcastPkts', 'ifInNUcastPkts', 'ifInDiscards', 'ifInErrors', 'ifInUnknownProtos', 'ifOutOctets',
  'ifOutUcastPkts', 'ifOutNUcastPkts', 'ifOutDiscards', 'ifOutErrors', 'ifOutQLen', 'ifSpecific',
]);
table('ifXTable', '1.3.6.1.2.1.31.1.1', [
  'ifName', 'ifInMulticastPkts', 'ifInBroadcastPkts', 'ifOutMulticastPkts', 'ifOutBroadcastPkts', 'ifHCInOctets',
  'ifHCInUcastPkts', 'ifHCInMulticastPkts', 'ifHCInBroadcastPkts', 'ifHCOutOctets', 'ifHCOutUcastPkts',
  'ifHCOutMulticastPkts', 'ifHCOutBroadcastPkts', 'ifLinkUpDownTrapEnable', 'ifHighSpeed', 'ifPromiscuousMode',
  'ifConnectorPresent', 'ifAlias', 'ifCounterDiscontinuityTime',
]);
// HOST-RESOURCES-MIB
scalars('1.3.6.1.2.1.25.1', { hrSystemUptime: 1, hrSystemNumUsers: 5, hrSystemProcesses: 6, hrSystemMaxProcesses: 7 });
scalars('1.3.6.1.2.1.25.2', { hrMemorySize: 2 });
table('hrStorageTable', '1.3.6.1.2.1.25.2.3', [
  'hrStorageIndex', 'hrStorageType', 'hrStorageDescr', 'hrStorageAllocationUnits', 'hrStorageSize', 'hrStorageUsed',
  'hrStorageAllocationFailures',
]);
table('hrProcessorTable', '1.3.6.1.2.1.25.3.3', ['hrProcessorFrwID', 'hrProcessorLoad']);
// UCD-SNMP-MIB (Net-SNMP's snmpd)
scalars('1.3.6.1.4.1.2021.4', {
  memTotalSwap: 3, memAvailSwap: 4, memTotalReal: 5, memAvailReal: 6, memTotalFree: 11, memShared: 13, memBuffer: 14, memCached: 15,
});
scalars('1.3.6.1.4.1.2021.11', {
  ssSwapIn: 3, ssSwapOut: 4, ssCpuUser: 9, ssCpuSystem: 10, ssCpuIdle: 11, ssCpuRawUser: 50, ssCpuRawNice: 51, ssCpuRawSystem: 52,
  ssCpuRawIdle: 53, ssCpuRawWait: 54, ssCpuRawInterrupt: 56, ssIORawSent: 57, ssIORawReceived: 58, ssRawInterrupts: 59,
  ssRawContexts: 60, ssCpuRawSoftIRQ: 61,
});
table('laTable', '1.3.6.1.4.1.2021.10', ['laIndex', 'laNames', 'laLoad', 'laConfig', 'laLoadInt']);
table('dskTable', '1.3.6.1.4.1.2021.9', ['dskIndex', 'dskPath', 'dskDevice', 'dskMinimum', 'dskMinPercent', 'dskTotal', 'dskAvail', 'dskUsed', 'dskPercent']);

const NUMERIC = /^\.?(\d+(?:\.\d+)+)$/;

/** knownNames lists every name, for README and suggestions. */
export function knownNames(kind?: Known['kind']): string[] {
  return [...KNOWN.entries()].filter(([, k]) => !kind || k.kind === kind).map(([n]) => n);
}

function unknown(name: string, kind: Known['kind']): Error {
  const near = suggest(name, knownNames(kind === 'column' ? undefined : kind));
  return new Error(`unknown OID name ${JSON.stringify(name)}; ${near ? `did you mean "${near}"? ` : ''}write a numeric OID like 1.3.6.1.2.1.1.3.0`);
}

/**
 * resolveGetOid turns a `get:` value into a numeric OID: a numeric OID as written, a
 * scalar name with .0 added (sysUpTime), or a name with an instance (ifInOctets.1,
 * sysUpTime.0). It throws an Error that says what to write instead.
 */
export function resolveGetOid(text: string): string {
  const t = text.trim();
  const num = NUMERIC.exec(t);
  if (num) return num[1];
  const m = /^([A-Za-z][A-Za-z0-9]*)((?:\.\d+)*)$/.exec(t);
  if (!m) throw new Error(`expected a numeric OID like 1.3.6.1.2.1.1.3.0 or a name like sysUpTime; got ${JSON.stringify(text)}`);
  const known = KNOWN.get(m[1]);
  if (!known) throw unknown(m[1], 'scalar');
  const instance = m[2];
  if (known.kind === 'scalar') return `${known.oid}${instance || '.0'}`;
  if (known.kind === 'table') throw new Error(`${m[1]} is a table; read it with walk: [{ table: ${m[1]}, columns: {...} }]`);
  if (!instance) throw new Error(`${m[1]} is a table column; name a row (e.g. ${m[1]}.1) or walk ${known.table}`);
  return `${tableOidOf(known.table)}.1.${known.column}${instance}`;
}

function tableOidOf(name: string): string {
  return (KNOWN.get(name) as Table).oid;
}

/** resolveTableOid turns a `walk[].table` into the table's numeric OID. */
export function resolveTableOid(text: string): string {
  const t = text.trim();
  const num = NUMERIC.exec(t);
  if (num) return num[1];
  const known = KNOWN.get(t);
  if (!known) throw unknown(t, 'table');
  if (known.kind !== 'table') throw new Error(`${t} is not a table; tables have names like ifTable, hrStorageTable`);
  return known.oid;
}

/**
 * resolveColumnOid turns a column of a walk (a name like ifInOctets, a column number like
 * 10, or a numeric OID under the table's entry) into the column's numeric OID.
 */
export function resolveColumnOid(tableOid: string, column: string | number): string {
  const entry = `${tableOid}.1`;
  if (typeof column === 'number' || /^\d+$/.test(String(column).trim())) {
    const n = Number(column);
    if (!Number.isInteger(n) || n < 1) throw new Error(`column numbers start at 1; got ${column}`);
    return `${entry}.${n}`;
  }
  const t = column.trim();
  const num = NUMERIC.exec(t);
  if (num) {
    if (!num[1].startsWith(`${entry}.`) || num[1].split('.').length !== entry.split('.').length + 1) {
      throw new Error(`${num[1]} is not a column of the table ${tableOid} (columns are ${entry}.N)`);
    }
    return num[1];
  }
  const known = KNOWN.get(t);
  if (!known) throw unknown(t, 'column');
  if (known.kind !== 'column') throw new Error(`${t} is not a table column`);
  const oid = `${tableOidOf(known.table)}.1.${known.column}`;
  if (!oid.startsWith(`${entry}.`)) throw new Error(`${t} is a column of ${known.table}, not of this table`);
  return oid;
}

/** compareOids orders numeric OIDs (and table row indexes) component by component. */
export function compareOids(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
