import * as snmp from 'net-snmp';
import { numeric } from '../snmp';
import { resolveGetOid } from '../snmp/oids';
import type { EmitOutput } from '../../src/engine/block';
import { suggest } from '../../src/config/messages';
import { evaluate, identifiers, Node, parse, truthy } from '../../src/expr';
import { isLoopback } from '../../src/util/url';
import { Trap, underOid } from './decode';

/** TrapOptions: a trap block's keys in monitor.yaml (see blocks/trap/README.md). */
export interface TrapOptions {
  listen?: string;
  community?: string | string[];
  oids?: string[];
  agents?: string[];
  fields?: Record<string, string>;
  alarm?: string[];
  clear?: string[];
  ok?: string;
}

/** DEFAULT_COMMUNITY: the community a trap block accepts unless told (snmptrap's usual -c public). */
export const DEFAULT_COMMUNITY = 'public';
/** RECEIVED: the field every trap sets to 1, so count(<block>.received, 5m) counts traps. */
export const RECEIVED = 'received';
/** VALUE: the field a trap sent over HTTP (PUT /trap) sets. */
export const VALUE = 'value';
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Listen is a parsed `listen`: where a receiver binds. */
export interface Listen {
  host: string;
  port: number;
  /** host:port, [v6]:port: the receiver's key and how messages name it. */
  key: string;
  family: 'udp4' | 'udp6';
}

/** parseListen reads `host:port` (`[::1]:1162` for IPv6); a string is what is wrong. */
export function parseListen(text: string): Listen | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!m) return 'expected host:port, e.g. 127.0.0.1:1162 ([::1]:1162 for IPv6)';
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `port ${port} is out of range; expected 1-65535`;
  const host = m[1] ?? m[2];
  const v6 = m[1] !== undefined;
  return { host, port, key: v6 ? `[${host}]:${port}` : `${host}:${port}`, family: v6 ? 'udp6' : 'udp4' };
}

/** insecureListen: the rule node.listen has (a non-loopback address needs node.token), for a receiver. */
export function insecureListen(l: Listen, token: string | undefined): string | undefined {
  if (isLoopback(l.host) || token) return undefined;
  return `${l.host} is not a loopback address; set node.token to receive traps from other machines, or listen on 127.0.0.1`;
}

/** oidOf resolves an OID option (numeric, with or without a leading dot, or a known name such as sysUpTime). */
function oidOf(text: string): string {
  const t = text.trim().replace(/^\./, '');
  if (/^\d+(?:\.\d+)*$/.test(t)) return t;
  return resolveGetOid(text);
}

/** TrapRule is a trap block's options, compiled: which traps it takes and what each becomes. */
export interface TrapRule {
  listen?: Listen;
  communities: ReadonlySet<string>;
  oids: readonly string[];
  agents: ReadonlySet<string>;
  fields: ReadonlyArray<{ field: string; oid: string }>;
  alarm: readonly string[];
  clear: readonly string[];
  ok?: { text: string; node: Node };
}

/** compileRule compiles options; problems come back as [option path, message]. */
export function compileRule(o: TrapOptions): { rule: TrapRule; problems: Array<[string, string]> } {
  const problems: Array<[string, string]> = [];
  let listen: Listen | undefined;
  if (o.listen !== undefined) {
    const l = parseListen(o.listen);
    if (typeof l === 'string') problems.push(['listen', l]);
    else listen = l;
  }
  const oidList = (key: 'oids' | 'alarm' | 'clear'): string[] => (o[key] ?? []).flatMap((text, i) => {
    try {
      return [oidOf(text)];
    } catch (err) {
      problems.push([`${key}.${i}`, (err as Error).message]);
      return [];
    }
  });
  const fields: Array<{ field: string; oid: string }> = [];
  for (const [field, text] of Object.entries(o.fields ?? {})) {
    if (!FIELD_NAME.test(field)) problems.push([`fields.${field}`, `field name ${JSON.stringify(field)} must be letters, digits and _ (not starting with a digit)`]);
    else if (field === RECEIVED || field === 'up') problems.push([`fields.${field}`, `field name "${field}" is the block's own series; choose another`]);
    try {
      fields.push({ field, oid: oidOf(text) });
    } catch (err) {
      problems.push([`fields.${field}`, (err as Error).message]);
    }
  }
  let ok: TrapRule['ok'];
  if (o.ok !== undefined) {
    try {
      const node = parse(o.ok, { functions: new Set() });
      const known = new Set([...fields.map((f) => f.field), RECEIVED, VALUE]);
      const unknown = identifiers(node).filter((n) => !known.has(n));
      if (unknown.length) {
        const near = suggest(unknown[0], [...known]);
        problems.push(['ok', `"${unknown[0]}" is not a field of this block; ${near ? `did you mean "${near}"? ` : ''}expected one of: ${[...known].join(', ')}`]);
      }
      ok = { text: o.ok, node };
    } catch (err) {
      problems.push(['ok', `is not a condition: ${(err as { reason?: string }).reason ?? (err as Error).message}`]);
    }
  }
  const communities = typeof o.community === 'string' ? [o.community] : o.community ?? [DEFAULT_COMMUNITY];
  const rule: TrapRule = {
    listen,
    communities: new Set(communities),
    oids: oidList('oids'),
    agents: new Set(o.agents ?? []),
    fields,
    alarm: oidList('alarm'),
    clear: oidList('clear'),
    ok,
  };
  return { rule, problems };
}

/** matches tells whether a block's rule takes a trap: its community, its sender, its OID. */
export function matches(rule: TrapRule, t: Trap): boolean {
  if (!rule.communities.has(t.community)) return false;
  if (rule.agents.size > 0 && !rule.agents.has(t.source) && !(t.agentAddr !== undefined && rule.agents.has(t.agentAddr))) return false;
  return rule.oids.length === 0 || rule.oids.some((p) => underOid(t.oid, p));
}

/** fieldValue finds the varbind of a field: the OID itself, else the first below it (an instance). */
function fieldVarbind(t: Trap, oid: string): Trap['varbinds'][number] | undefined {
  return t.varbinds.find((v) => v.oid === oid) ?? t.varbinds.find((v) => underOid(v.oid, oid));
}

/** shownValue is a varbind's value for the output: text cut at 80 characters. */
function shownValue(v: unknown): string {
  const text = Buffer.isBuffer(v) ? v.toString('utf8').replace(/[^\x20-\x7e]/g, '?') : String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** OUTPUT_VARBINDS: the varbinds a trap's output lists. */
const OUTPUT_VARBINDS = 20;

/**
 * okOf decides a result's ok: a trap under `alarm` is down, under `clear` up; otherwise
 * the `ok` condition over its fields; otherwise the state it had (`last`).
 */
function okOf(rule: TrapRule, oid: string | undefined, fields: Record<string, number>, last: boolean): { ok: boolean; why?: string } {
  if (oid !== undefined && rule.alarm.some((p) => underOid(oid, p))) return { ok: false, why: 'alarm trap' };
  if (oid !== undefined && rule.clear.some((p) => underOid(oid, p))) return { ok: true };
  if (rule.ok) {
    const met = truthy(evaluate(rule.ok.node, (n) => fields[n] ?? null));
    const seen = identifiers(rule.ok.node).map((n) => `${n} = ${fields[n] ?? 'none'}`).join(', ');
    return met ? { ok: true } : { ok: false, why: `not ${rule.ok.text} (${seen})` };
  }
  return { ok: last };
}

/** trapOutput is what an SNMP trap becomes on its block: fields from varbinds, received = 1, ok by the rule. */
export function trapOutput(rule: TrapRule, t: Trap, last: boolean): EmitOutput {
  const fields: Record<string, number> = { [RECEIVED]: 1 };
  const notes: string[] = [];
  for (const f of rule.fields) {
    const vb = fieldVarbind(t, f.oid);
    if (!vb) continue;
    const n = numeric(vb as snmp.Varbind);
    if ('why' in n) notes.push(`${f.field} (${vb.oid}): ${n.why}`);
    else fields[f.field] = n.value;
  }
  const from = `${t.source}${t.agentAddr && t.agentAddr !== t.source ? ` (agent ${t.agentAddr})` : ''}`;
  const head = `${t.inform ? 'inform' : 'trap'} ${t.oid || '(no snmpTrapOID)'} from ${from}, v${t.version}`;
  const lines = [head, ...t.varbinds.slice(0, OUTPUT_VARBINDS).map((v) => `  ${v.oid} = ${shownValue(v.value)}`), ...notes];
  if (t.varbinds.length > OUTPUT_VARBINDS) lines.push(`  [… ${t.varbinds.length - OUTPUT_VARBINDS} more varbinds]`);
  const { ok, why } = okOf(rule, t.oid, fields, last);
  const out: EmitOutput = { ok, fields, at: t.at, output: lines.join('\n') };
  if (!ok) out.message = `${why ?? 'down since an earlier trap'}: ${head}`;
  return out;
}

/** sentOutput is what a trap sent over HTTP (PUT /trap) becomes: value, received = 1, ok as given or by the rule. */
export function sentOutput(rule: TrapRule, sent: { value: number; message?: string; ok?: boolean }, at: number, last: boolean): EmitOutput {
  const fields: Record<string, number> = { [RECEIVED]: 1, [VALUE]: sent.value };
  const decided = sent.ok === undefined ? okOf(rule, undefined, fields, last) : { ok: sent.ok, why: 'sent as not ok' };
  const head = `sent over HTTP: value ${sent.value}${sent.message ? `: ${sent.message}` : ''}`;
  const out: EmitOutput = { ok: decided.ok, fields, at, output: head };
  if (!decided.ok) out.message = sent.message ?? `${decided.why ?? 'down since an earlier trap'}: value ${sent.value}`;
  return out;
}
