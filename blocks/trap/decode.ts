import * as snmp from 'net-snmp';

/**
 * The trap contract: what an incoming SNMP trap (v1 Trap-PDU, v2c SNMPv2-Trap-PDU or
 * InformRequest) looks like once decoded, whatever its version, so that a block's rule
 * matches one shape.
 */

/** Varbind is one variable a trap carries. */
export interface TrapVarbind {
  oid: string;
  type: number;
  value: unknown;
}

/** Trap is one decoded trap. */
export interface Trap {
  version: '1' | '2c';
  /** An inform was acknowledged to its sender (by net-snmp) before it was handed on. */
  inform: boolean;
  /**
   * The trap's OID: snmpTrapOID.0 for v2c; for v1 the RFC 3584 translation
   * (enterprise.0.specific for enterprise-specific traps, 1.3.6.1.6.3.1.1.5.N for generic).
   */
  oid: string;
  /** The community it came with (checked against the receiver's before it gets here). */
  community: string;
  /** The UDP sender's address, and for v1 the agent-addr the PDU names. */
  source: string;
  agentAddr?: string;
  /** The varbinds, without v2c's sysUpTime.0 and snmpTrapOID.0. */
  varbinds: TrapVarbind[];
  /** Arrival, epoch ms. */
  at: number;
}

export const SYS_UPTIME_OID = '1.3.6.1.2.1.1.3.0';
export const SNMP_TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';
/** GENERIC_TRAPS: the v1 generic-trap numbers 0-5 as v2 OIDs (RFC 3584 3.1): coldStart ... egpNeighborLoss. */
const GENERIC_BASE = '1.3.6.1.6.3.1.1.5';

/** v1TrapOid translates a v1 trap's enterprise, generic and specific numbers to its v2 OID. */
export function v1TrapOid(enterprise: string, generic: number, specific: number): string {
  if (generic === 6) return `${enterprise}.0.${specific}`;
  return `${GENERIC_BASE}.${generic + 1}`;
}

/** MAX_VARBINDS: the varbinds of one trap looked at (a hostile packet may carry thousands). */
export const MAX_VARBINDS = 256;

interface RawPdu {
  type: number;
  community?: string;
  enterprise?: string;
  agentAddr?: string;
  generic?: number;
  specific?: number;
  varbinds?: Array<{ oid: string; type: number; value: unknown }>;
}

/** decodeTrap turns what net-snmp's receiver hands over into a Trap, or undefined for another PDU or a v2c one without its trap OID. */
export function decodeTrap(data: { pdu: RawPdu; rinfo: { address: string } }, at: number): Trap | undefined {
  const pdu = data.pdu;
  const varbinds = (pdu.varbinds ?? []).slice(0, MAX_VARBINDS + 2).map((v) => ({ oid: String(v.oid), type: v.type, value: v.value }));
  const base = { community: String(pdu.community ?? ''), source: data.rinfo.address, at };
  if (pdu.type === snmp.PduType.Trap) {
    return {
      ...base,
      version: '1',
      inform: false,
      oid: v1TrapOid(String(pdu.enterprise ?? ''), Number(pdu.generic ?? 0), Number(pdu.specific ?? 0)),
      agentAddr: pdu.agentAddr === undefined ? undefined : String(pdu.agentAddr),
      varbinds: varbinds.slice(0, MAX_VARBINDS),
    };
  }
  if (pdu.type === snmp.PduType.TrapV2 || pdu.type === snmp.PduType.InformRequest) {
    // RFC 3416: the second varbind is snmpTrapOID.0; a packet without it (cut short, say) is no trap.
    const trapOid = varbinds.find((v) => v.oid === SNMP_TRAP_OID);
    if (!trapOid || typeof trapOid.value !== 'string' || !/^\d+(?:\.\d+)+$/.test(trapOid.value)) return undefined;
    return {
      ...base,
      version: '2c',
      inform: pdu.type === snmp.PduType.InformRequest,
      oid: trapOid.value,
      varbinds: varbinds.filter((v) => v.oid !== SYS_UPTIME_OID && v.oid !== SNMP_TRAP_OID).slice(0, MAX_VARBINDS),
    };
  }
  return undefined;
}

/** underOid tells whether oid is prefix itself or below it (1.3.6.1.4.1.318 covers 1.3.6.1.4.1.318.0.5, not 1.3.6.1.4.1.3180). */
export function underOid(oid: string, prefix: string): boolean {
  return oid === prefix || (oid.startsWith(prefix) && oid.charCodeAt(prefix.length) === 46 /* . */);
}
