import { BlockType, JsonSchema } from '../../src/engine/block';
import { TrapHub } from './hub';
import { compileRule, RECEIVED, TrapOptions, VALUE } from './rule';

/** TrapBlockOptions: the block's keys in monitor.yaml (see README.md). */
export interface TrapBlockOptions extends TrapOptions {
  name: string;
  every?: string;
  timeout?: string;
}

const oidList = (what: string, description: string): JsonSchema => ({
  type: 'array',
  minItems: 1,
  items: { type: 'string', minLength: 1, 'x-expected': 'an OID such as 1.3.6.1.4.1.318' },
  'x-expected': `a list of ${what}, e.g. [1.3.6.1.4.1.318.0.5]`,
  description,
});

/**
 * trapBlock takes events other systems push: SNMP traps and informs (v1, v2c) on a UDP
 * address, and values sent over HTTP (PUT /trap). It is passive, like a heartbeat: each
 * trap it takes is a result (`<block>.received` = 1, the fields its varbinds map to, ok by
 * its rule). The receivers and the HTTP operation are in hub.ts.
 */
export const trapBlock: BlockType<TrapBlockOptions> = {
  type: 'trap',
  description: 'Events pushed in: SNMP traps and informs (v1, v2c) on a UDP port, and values sent with PUT /trap; each one a result.',
  passive: true,
  schema: {
    properties: {
      listen: {
        type: 'string',
        'x-expected': 'host:port, e.g. 127.0.0.1:1162',
        description: 'UDP address of the SNMP trap receiver (shared by the trap blocks naming it); a non-loopback address needs node.token. Without it the block takes PUT /trap only.',
      },
      community: {
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        ],
        'x-expected': 'a community string or a list of them',
        description: 'The v1/v2c communities taken (default public); traps with another are refused and not counted.',
      },
      oids: oidList('trap OIDs', 'Trap OIDs (or prefixes: an enterprise) this block takes (default: all). v1 traps match by their RFC 3584 OID (enterprise.0.specific).'),
      agents: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1, 'x-expected': 'an IP address' },
        'x-expected': 'a list of IP addresses, e.g. [192.0.2.7]',
        description: 'Senders this block takes (the UDP source, or a v1 trap\'s agent-addr; default: all).',
      },
      fields: {
        type: 'object',
        minProperties: 1,
        additionalProperties: { type: 'string', minLength: 1, 'x-expected': 'a varbind OID, e.g. 1.3.6.1.4.1.318.1.1.1.2.2.2' },
        'x-expected': 'a mapping of field names to varbind OIDs, e.g. { temp: 1.3.6.1.4.1.318.1.1.1.2.2.2 }',
        description: 'Field name → varbind OID (the OID itself, or the first varbind below it): its numeric value.',
      },
      alarm: oidList('trap OIDs', 'Traps under these OIDs make the block down (an alarm).'),
      clear: oidList('trap OIDs', 'Traps under these OIDs make it up again (a clear).'),
      ok: {
        type: 'string',
        minLength: 1,
        'x-expected': 'a condition over the fields, e.g. "temp < 40"',
        description: `A condition over a trap's fields (${RECEIVED}, ${VALUE}, and those of fields:) that says whether it is ok; one over a field the trap lacks is not met.`,
      },
    },
  },
  check(o) {
    const problems: Array<[string, string]> = [];
    if (o.every !== undefined) problems.push(['every', 'a trap block is sent traps, not run; remove every']);
    if (o.timeout !== undefined) problems.push(['timeout', 'a trap block is sent traps, not run; remove timeout']);
    problems.push(...compileRule(o).problems);
    return problems;
  },
  fields: (o) => [RECEIVED, VALUE, ...Object.keys(o.fields ?? {})],
  create(o, env) {
    const hub = env.hub as TrapHub;
    hub.attach(env.name, o, env.emit);
    return {
      run: async () => ({ ok: false, message: 'a trap block is sent traps (SNMP, PUT /trap), not run' }),
      close: () => hub.detach(env.name, env.emit),
    };
  },
  hub: (env) => new TrapHub(env),
};
