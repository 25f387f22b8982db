import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { SocketAddress } from 'node:net';
import { RunOutput } from '../../src/engine/block';
import { silentLogger } from '../../src/log';
import { createMemoryShared } from '../../src/shared/memory';
import { parsePingOutput, pingArgs, PingTally } from './exec';
import { checksum, EchoTemplate, echoRequest, Family, icmpFilter, ipv6String, parseIcmp } from './icmp';
import { pingBlock, PingOptions, rttStats, runBudgetMs, summarize } from './index';
import { IcmpPinger, PermissionError, ProbeOutcome, sharedPinger } from './pinger';

const MARKER = Buffer.from('remon-ok');

/** ipv4Header is a minimal IPv4 header (20 bytes, protocol ICMP) from src to dst. */
function ipv4Header(src: string, dst: string): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[9] = 1;
  Buffer.from(src.split('.').map(Number)).copy(h, 12);
  Buffer.from(dst.split('.').map(Number)).copy(h, 16);
  return h;
}

/** ipv6Header is a minimal IPv6 header (next header ICMPv6) to dst. */
function ipv6Header(dst: string): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h[6] = 58;
  const words = new SocketAddress({ address: dst, family: 'ipv6' }).address;
  // Expand "a::b" to 8 words.
  const [head, tail = ''] = words.split('::');
  const hw = head ? head.split(':') : [];
  const tw = tail ? tail.split(':') : [];
  const all = [...hw, ...Array(8 - hw.length - tw.length).fill('0'), ...tw];
  all.forEach((w, i) => h.writeUInt16BE(parseInt(w, 16), 24 + i * 2));
  return h;
}

/** asReply turns an echo request into the echo reply a host sends back. */
function asReply(family: Family, request: Buffer): Buffer {
  const r = Buffer.from(request);
  r[0] = family === 4 ? 0 : 129;
  return family === 4 ? Buffer.concat([ipv4Header('10.9.9.9', '10.0.0.1'), r]) : r;
}

/** asError wraps a request in an ICMP error (type/code) as a router sends it. */
function asError(family: Family, type: number, code: number, request: Buffer, to: string): Buffer {
  const head = Buffer.from([type, code, 0, 0, 0, 0, 0, 0]);
  const quoted = Buffer.concat([family === 4 ? ipv4Header('10.0.0.1', to) : ipv6Header(to), request.subarray(0, 8)]);
  const icmp = Buffer.concat([head, quoted]);
  return family === 4 ? Buffer.concat([ipv4Header('10.0.0.254', '10.0.0.1'), icmp]) : icmp;
}

describe('ping block', () => {
  describe('icmp packets', () => {
    it('computes the Internet checksum (RFC 1071 example)', () => {
      assert.equal(checksum(Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])), 0x220d);
      assert.equal(checksum(Buffer.from([0x01])), 0xfeff, 'an odd byte is padded with zero');
    });

    it('builds an IPv4 echo request: header, marker, ping\'s pattern, a checksum that verifies', () => {
      const b = echoRequest(4, 0x1234, 0xabcd, MARKER, 56);
      assert.equal(b.length, 64);
      assert.deepEqual([b[0], b[1], b.readUInt16BE(4), b.readUInt16BE(6)], [8, 0, 0x1234, 0xabcd]);
      assert.deepEqual(b.subarray(8, 16), MARKER);
      assert.deepEqual([b[16], b[17], b[63]], [0x10, 0x11, 0x3f]);
      assert.equal(checksum(b), 0);
    });

    it('stamps a kept request with each sequence number as echoRequest builds it (the checksum updated in place)', () => {
      for (const [family, ident, size] of [[4, 0x1234, 56], [4, 0xffff, 8], [4, 0, 9], [6, 0x4321, 56]] as const) {
        const t = new EchoTemplate(family, ident, MARKER, size);
        const wrong: number[] = [];
        for (let seq = 0; seq < 0x10000; seq++) if (!t.stamp(seq).equals(echoRequest(family, ident, seq, MARKER, size))) wrong.push(seq);
        assert.deepEqual(wrong.slice(0, 5), [], `family ${family}, ident ${ident}, size ${size}`);
      }
    });

    it('builds an IPv6 echo request with the checksum left to the kernel', () => {
      const b = echoRequest(6, 1, 2, MARKER, 8);
      assert.deepEqual([...b.subarray(0, 8)], [128, 0, 0, 0, 0, 1, 0, 2]);
      assert.deepEqual(b.subarray(8), MARKER);
    });

    const cases: Array<[string, Family, Buffer, ReturnType<typeof parseIcmp>]> = [
      ['an IPv4 echo reply after its IP header', 4, asReply(4, echoRequest(4, 7, 9, MARKER, 56)), { kind: 'reply', ident: 7, seq: 9, marker: MARKER }],
      ['an IPv6 echo reply', 6, asReply(6, echoRequest(6, 7, 9, MARKER, 56)), { kind: 'reply', ident: 7, seq: 9, marker: MARKER }],
      ['an IPv4 host unreachable quoting our request', 4, asError(4, 3, 1, echoRequest(4, 7, 9, MARKER, 56), '10.0.0.99'),
        { kind: 'error', ident: 7, seq: 9, to: '10.0.0.99', reason: 'destination host unreachable' }],
      ['an IPv4 time exceeded', 4, asError(4, 11, 0, echoRequest(4, 7, 9, MARKER, 56), '10.0.0.99'),
        { kind: 'error', ident: 7, seq: 9, to: '10.0.0.99', reason: 'time to live exceeded' }],
      ['an IPv6 address unreachable quoting our request', 6, asError(6, 1, 3, echoRequest(6, 7, 9, MARKER, 56), 'fd00:1::99'),
        { kind: 'error', ident: 7, seq: 9, to: 'fd00:1::99', reason: 'destination address unreachable' }],
      ['an unknown unreachable code', 4, asError(4, 3, 15, echoRequest(4, 7, 9, MARKER, 56), '10.0.0.99'),
        { kind: 'error', ident: 7, seq: 9, to: '10.0.0.99', reason: 'destination unreachable (code 15)' }],
      ['an echo request is not ours to read', 4, Buffer.concat([ipv4Header('10.0.0.2', '10.0.0.1'), echoRequest(4, 7, 9, MARKER, 56)]), undefined],
      ['an IPv6 echo request neither', 6, echoRequest(6, 7, 9, MARKER, 56), undefined],
      ['an error about something else (a reply, not a request)', 4, asError(4, 3, 3, asReply(4, echoRequest(4, 7, 9, MARKER, 8)).subarray(20), '10.0.0.99'), undefined],
      ['a truncated datagram', 4, Buffer.concat([ipv4Header('10.0.0.2', '10.0.0.1'), Buffer.from([0, 0, 0])]), undefined],
    ];
    for (const [name, family, packet, want] of cases) {
      it(`reads ${name}`, () => assert.deepEqual(parseIcmp(family, packet), want));
    }

    it('renders IPv6 addresses as inet_ntop does', () => {
      for (const a of ['::', '::1', 'fd00:1::2', '2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', 'fe80::1', '1::', '1:0:0:2::3']) {
        assert.equal(ipv6String(ipv6Header(a).subarray(24, 40)), new SocketAddress({ address: a, family: 'ipv6' }).address, a);
      }
      assert.equal(ipv6String(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4])), '::ffff:1.2.3.4');
    });

    it('filters everything but echo replies and errors', () => {
      const v4 = icmpFilter(4).readUInt32LE(0);
      assert.deepEqual([0, 3, 11].map((t) => (v4 >>> t) & 1), [0, 0, 0]);
      assert.deepEqual([8, 5, 13].map((t) => (v4 >>> t) & 1), [1, 1, 1]);
      const v6 = icmpFilter(6);
      const passes = (t: number): boolean => ((v6.readUInt32LE((t >> 5) * 4) >>> (t & 31)) & 1) === 0;
      assert.deepEqual([1, 2, 3, 129, 128, 135, 136].map(passes), [true, true, true, true, false, false, false]);
    });
  });

  describe('the shared pinger (with a stand-in for the raw socket addon)', () => {
    class FakeSocket extends EventEmitter {
      sent: Array<{ packet: Buffer; address: string }> = [];
      closed = false;
      send(packet: Buffer, _o: number, _l: number, address: string, before: () => void, after: (e: Error | null, n: number) => void): this {
        before();
        if (address === '10.66.66.66') after(new Error('Network is unreachable'), 0);
        else this.sent.push({ packet: Buffer.from(packet), address });
        return this;
      }
      setOption(): void {}
      close(): this {
        this.closed = true;
        this.emit('close');
        return this;
      }
      /** reply answers the i-th request sent, optionally changed. */
      reply(i: number, family: Family, o: { from?: string; mutate?: (b: Buffer) => void } = {}): void {
        const { packet, address } = this.sent[i];
        const r = asReply(family, packet);
        o.mutate?.(r);
        this.emit('message', r, o.from ?? address);
      }
    }
    let sockets: FakeSocket[];
    let deny: string | undefined;
    const fake = {
      AddressFamily: { IPv4: 1, IPv6: 2 },
      Protocol: { ICMP: 1, ICMPv6: 58 },
      createSocket: () => {
        if (deny) throw new Error(deny);
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
    };
    let pinger: IcmpPinger;
    beforeEach(() => {
      sockets = [];
      deny = undefined;
      pinger = new IcmpPinger(() => fake as unknown as typeof import('raw-socket'), 0);
    });
    afterEach(() => pinger.close());

    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

    it('matches replies by identifier and sequence; late, duplicate, foreign and unmarked ones are ignored', async () => {
      const s = pinger.session(4);
      const p = [0, 1, 2, 3].map(() => s.probe('10.0.0.2', 56, 200));
      const got: Array<ProbeOutcome | undefined> = [undefined, undefined, undefined, undefined];
      p.forEach((x, i) => x.then((o) => { got[i] = o; }));
      const [fake0] = sockets;
      const seqs = fake0.sent.map((x) => x.packet.readUInt16BE(6));
      assert.equal(new Set(seqs).size, 4);
      assert.ok(fake0.sent.every((x) => x.packet.readUInt16BE(4) === pinger.ident));
      fake0.reply(1, 4);
      fake0.reply(1, 4); // a duplicate
      fake0.reply(0, 4, { from: '10.0.0.3' }); // someone else
      fake0.reply(2, 4, { mutate: (b) => b.writeUInt16BE(pinger.ident ^ 1, 24) }); // another process
      fake0.reply(3, 4, { mutate: (b) => { b[28] ^= 0xff; } }); // same identifier, not our marker
      await tick();
      assert.equal(got.filter(Boolean).length, 1);
      assert.ok('rtt' in got[1]! && got[1].rtt >= 0 && got[1].rtt < 100);
      const all = await Promise.all(p);
      assert.deepEqual(all.filter((o) => 'lost' in o), [{ lost: '' }, { lost: '' }, { lost: '' }]);
      fake0.reply(0, 4); // after its timer: late
      assert.deepEqual(pinger.stats(), { opened: { 4: 1, 6: 0 }, open: { 4: 1, 6: 0 }, inFlight: 0, sent: 4, received: 1 });
      s.release();
    });

    it('keeps sequence numbers unique among 5,000 requests in flight', async () => {
      const s = pinger.session(6);
      const p = Array.from({ length: 5000 }, () => s.probe('fd00::2', 8, 1000));
      const seqs = sockets[0].sent.map((x) => x.packet.readUInt16BE(6));
      assert.equal(new Set(seqs).size, 5000);
      sockets[0].sent.forEach((_, i) => sockets[0].reply(i, 6));
      assert.ok((await Promise.all(p)).every((o) => 'rtt' in o));
      s.release();
    });

    it('ends a probe with the reason of an ICMP error quoting it', async () => {
      const s = pinger.session(4);
      const p = s.probe('10.0.0.99', 56, 1000);
      const { packet } = sockets[0].sent[0];
      sockets[0].emit('message', asError(4, 3, 1, packet, '10.0.0.98'), '10.0.0.1'); // about another destination
      sockets[0].emit('message', asError(4, 3, 1, packet, '10.0.0.99'), '10.0.0.1');
      assert.deepEqual(await p, { lost: 'destination host unreachable (from 10.0.0.1)' });
      s.release();
    });

    it('ends a probe whose send fails with the error', async () => {
      const s = pinger.session(4);
      assert.deepEqual(await s.probe('10.66.66.66', 56, 1000), { lost: 'network is unreachable' });
      s.release();
    });

    it('opens one socket per family on first use and closes it when the last session ends', async () => {
      const a = pinger.session(4);
      const b = pinger.session(4);
      const c = pinger.session(6);
      assert.equal(sockets.length, 2);
      a.release();
      await tick();
      assert.equal(sockets[0].closed, false, 'b still holds it');
      const inFlight = b.probe('10.0.0.2', 56, 60_000);
      b.release();
      assert.deepEqual(await inFlight, { lost: 'cancelled' }, 'a released session cancels its probes');
      await tick();
      assert.equal(sockets[0].closed, true);
      c.release();
      const d = pinger.session(6);
      await tick();
      assert.equal(sockets[1].closed, false, 'a session in the same turn keeps the socket');
      d.release();
      await tick();
      assert.deepEqual(pinger.stats().open, { 4: 0, 6: 0 });
      pinger.session(4).release();
      assert.deepEqual(pinger.stats().opened, { 4: 2, 6: 1 }, 'reopened when needed again');
    });

    it('ends the probes in flight when the socket fails', async () => {
      const s = pinger.session(4);
      const p = s.probe('10.0.0.2', 56, 60_000);
      sockets[0].emit('error', new Error('boom'));
      assert.deepEqual(await p, { lost: 'ICMP socket error: boom' });
      s.release();
      pinger.session(4).release();
      assert.equal(sockets.length, 2, 'a new socket for the next run');
    });

    it('tells a permission error apart', () => {
      deny = 'Operation not permitted';
      assert.throws(() => pinger.session(4), PermissionError);
      deny = 'Address family not supported by protocol';
      assert.throws(() => pinger.session(6), (e: Error) => !(e instanceof PermissionError) && /Address family/.test(e.message));
    });
  });

  describe('the system ping fallback', () => {
    it('builds the iputils command line', () => {
      assert.deepEqual(pingArgs({ address: 'fd00::2', family: 6, count: 3, intervalMs: 200, size: 56, waitMs: 2000 }),
        ['-6', '-n', '-c', '3', '-i', '0.2', '-s', '56', '-W', '2', 'fd00::2']);
    });

    const outputs: Array<[string, string, PingTally]> = [
      ['all replies', `PING 10.0.1.2 (10.0.1.2) 56(84) bytes of data.
64 bytes from 10.0.1.2: icmp_seq=1 ttl=64 time=0.046 ms
64 bytes from 10.0.1.2: icmp_seq=2 ttl=64 time=0.020 ms

--- 10.0.1.2 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 1001ms
rtt min/avg/max/mdev = 0.020/0.033/0.046/0.013 ms
`, { sent: 2, received: 2, reasons: [], rtt: { min: 0.02, avg: 0.033, max: 0.046, mdev: 0.013 } }],
      ['host unreachable', `PING 10.0.1.99 (10.0.1.99) 56(84) bytes of data.
From 10.0.1.1 icmp_seq=1 Destination Host Unreachable
From 10.0.1.1 icmp_seq=2 Destination Host Unreachable

--- 10.0.1.99 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1020ms
`, { sent: 2, received: 0, reasons: ['destination host unreachable (from 10.0.1.1)', 'destination host unreachable (from 10.0.1.1)'] }],
      ['IPv6 address unreachable', `PING fd00:1::99(fd00:1::99) 56 data bytes
From fd00:1::1 icmp_seq=1 Destination unreachable: Address unreachable

--- fd00:1::99 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms
`, { sent: 1, received: 0, reasons: ['destination unreachable: address unreachable (from fd00:1::1)'] }],
      ['partial loss', `--- x ping statistics ---
10 packets transmitted, 7 received, 30% packet loss, time 93ms
rtt min/avg/max/mdev = 50.081/50.262/50.507/0.123 ms
`, { sent: 10, received: 7, reasons: [], rtt: { min: 50.081, avg: 50.262, max: 50.507, mdev: 0.123 } }],
      ['nothing', '', { sent: 0, received: 0, reasons: [] }],
    ];
    for (const [name, out, want] of outputs) {
      it(`parses ping's output: ${name}`, () => assert.deepEqual(parsePingOutput(out), want));
    }
  });

  describe('fields and verdict', () => {
    it('computes min/avg/max/mdev as ping does', () => {
      assert.deepEqual(rttStats([1, 2, 3, 4]), { min: 1, avg: 2.5, max: 4, mdev: Math.sqrt(1.25) });
      assert.deepEqual(rttStats([7]), { min: 7, avg: 7, max: 7, mdev: 0 });
    });

    const t4 = { address: '10.0.0.2', family: 4 as Family };
    const cases: Array<[string, string, PingTally, number, RunOutput]> = [
      ['all replies', '10.0.0.2', { sent: 3, received: 3, rtts: [1, 2, 3.0004], reasons: [] }, 100, {
        ok: true,
        fields: { sent: 3, received: 3, loss_pct: 0, rtt_min_ms: 1, rtt_avg_ms: 2, rtt_max_ms: 3, rtt_mdev_ms: 0.817 },
        output: 'PING 10.0.0.2: 3 packets transmitted, 3 received, 0% packet loss\nrtt min/avg/max/mdev = 1.000/2.000/3.000/0.817 ms',
      }],
      ['some loss is ok by default', 'gw', { sent: 3, received: 1, rtts: [5], reasons: [] }, 100, {
        ok: true,
        fields: { sent: 3, received: 1, loss_pct: 66.667, rtt_min_ms: 5, rtt_avg_ms: 5, rtt_max_ms: 5, rtt_mdev_ms: 0 },
        output: 'PING gw (10.0.0.2): 3 packets transmitted, 1 received, 66.667% packet loss\nrtt min/avg/max/mdev = 5.000/5.000/5.000/0.000 ms',
      }],
      ['loss over max_loss_pct', 'gw', { sent: 10, received: 7, rtts: [1, 1, 1, 1, 1, 1, 1], reasons: [] }, 20, {
        ok: false,
        fields: { sent: 10, received: 7, loss_pct: 30, rtt_min_ms: 1, rtt_avg_ms: 1, rtt_max_ms: 1, rtt_mdev_ms: 0 },
        message: '30% packet loss to gw (10.0.0.2) (3 of 10 lost), over max_loss_pct 20',
        output: 'PING gw (10.0.0.2): 10 packets transmitted, 7 received, 30% packet loss\nrtt min/avg/max/mdev = 1.000/1.000/1.000/0.000 ms',
      }],
      ['loss at max_loss_pct is ok', '10.0.0.2', { sent: 10, received: 8, rtts: Array(8).fill(1), reasons: [] }, 20, {
        ok: true,
        fields: { sent: 10, received: 8, loss_pct: 20, rtt_min_ms: 1, rtt_avg_ms: 1, rtt_max_ms: 1, rtt_mdev_ms: 0 },
        output: 'PING 10.0.0.2: 10 packets transmitted, 8 received, 20% packet loss\nrtt min/avg/max/mdev = 1.000/1.000/1.000/0.000 ms',
      }],
      ['no reply: no rtt fields, the reasons once each', '10.0.0.2', { sent: 2, received: 0, rtts: [], reasons: ['x (from 10.0.0.1)', 'x (from 10.0.0.1)'] }, 100, {
        ok: false,
        fields: { sent: 2, received: 0, loss_pct: 100 },
        message: 'no reply from 10.0.0.2: 2 of 2 packets lost: x (from 10.0.0.1)',
        output: 'PING 10.0.0.2: 2 packets transmitted, 0 received, 100% packet loss\nx (from 10.0.0.1)',
      }],
      ['no reply fails even with max_loss_pct 100', '10.0.0.2', { sent: 1, received: 0, rtts: [], reasons: [] }, 100, {
        ok: false,
        fields: { sent: 1, received: 0, loss_pct: 100 },
        message: 'no reply from 10.0.0.2: 1 of 1 packets lost',
        output: 'PING 10.0.0.2: 1 packets transmitted, 0 received, 100% packet loss',
      }],
      ['the pinging itself failed', 'gw', { sent: 0, received: 0, reasons: [], error: 'cannot run ping: spawn ping ENOENT' }, 100, {
        ok: false, message: 'gw (10.0.0.2): cannot run ping: spawn ping ENOENT',
      }],
    ];
    for (const [name, host, tally, max, want] of cases) {
      it(name, () => assert.deepEqual(summarize(host, t4, tally, max, 'raw'), want));
    }

    it('gives only the fields the type declares (pingBlock.fields, for remon check)', () => {
      const declared = pingBlock.fields!({ name: 'p', host: 'h' });
      for (const [, host, tally, max] of cases) {
        for (const f of Object.keys(summarize(host, t4, tally, max, 'raw').fields ?? {})) assert.ok(declared?.includes(f), f);
      }
      assert.deepEqual(declared, ['sent', 'received', 'loss_pct', 'rtt_min_ms', 'rtt_avg_ms', 'rtt_max_ms', 'rtt_mdev_ms']);
    });
  });

  describe('options', () => {
    it('gives a run its timeout less a margin', () => {
      assert.equal(runBudgetMs({}), 9800, 'default every 1m → timeout 10s');
      assert.equal(runBudgetMs({ every: '1s' }), 900);
      assert.equal(runBudgetMs({ every: '1m', timeout: '3s' }), 2800);
    });

    const cases: Array<[string, Partial<PingOptions>, Array<[string, string]>]> = [
      ['defaults are fine', {}, []],
      ['an interval under 10ms', { interval: '5ms' }, [['interval', 'must be at least 10ms; got "5ms"']]],
      ['a wait of 0s', { wait: '0s' }, [['wait', 'must be longer than 0s; got "0s"']]],
      ['a family the address is not', { host: '10.0.0.1', family: 'ipv6' }, [['family', 'is ipv6, but host 10.0.0.1 is an IPv4 address; remove family or change host']]],
      ['requests that take longer to send than the timeout', { count: 20, interval: '1s' },
        [['count', '20 requests 1s apart take 19s to send, more than the run\'s timeout 10s allows; raise timeout or lower count or interval']]],
      ['the same against an explicit timeout', { count: 5, interval: '500ms', every: '5s', timeout: '2s' },
        [['count', '5 requests 500ms apart take 2s to send, more than the run\'s timeout 2s allows; raise timeout or lower count or interval']]],
    ];
    for (const [name, o, want] of cases) {
      it(`check: ${name}`, () => assert.deepEqual(pingBlock.check!({ name: 'p', host: 'gw', ...o }), want));
    }
  });

  describe('on loopback', () => {
    const log = silentLogger();
    const shared = createMemoryShared();
    const run = (o: Omit<PingOptions, 'name'>, signal = new AbortController().signal): Promise<RunOutput> =>
      pingBlock.create({ name: 'p', ...o }, { name: 'p', configDir: '.', dataDir: '.', log, emit: () => undefined }).run({ signal, log, shared });

    before(function () {
      if (process.env.REMON_PING_METHOD === 'exec') this.skip();
      try {
        sharedPinger().session(4).release();
      } catch (err) {
        const why = `raw ICMP sockets are not available (${(err as Error).message}; run as root or with CAP_NET_RAW)`;
        if (process.env.REMON_REQUIRE_INTEGRATION === '1') throw new Error(`${why}; REMON_REQUIRE_INTEGRATION=1 requires them`);
        console.warn(`\n  !!! SKIPPED: ${why}\n`);
        this.skip();
      }
    });

    it('pings 127.0.0.1 and ::1 from 200 blocks at once through one socket per family', async () => {
      sharedPinger().closeIdle();
      const before = sharedPinger().stats();
      assert.deepEqual(before.open, { 4: 0, 6: 0 });
      const runs = Array.from({ length: 200 }, (_, i) => run({ host: i % 2 ? '::1' : '127.0.0.1', count: 3, interval: '20ms' }));
      const results = await Promise.all(runs);
      for (const r of results) {
        assert.equal(r.ok, true, r.message);
        assert.deepEqual([r.fields!.sent, r.fields!.received, r.fields!.loss_pct], [3, 3, 0]);
      }
      const after = sharedPinger().stats();
      assert.deepEqual([after.opened[4] - before.opened[4], after.opened[6] - before.opened[6]], [1, 1]);
      assert.equal(after.received - before.received, 600);
    });

    it('resolves localhost and reports the address', async () => {
      const r = await run({ host: 'localhost', family: 'ipv4', count: 1 });
      assert.match(r.output!, /^PING localhost \(127\.0\.0\.1\): 1 packets transmitted, 1 received, 0% packet loss\n/);
    });

    it('stops sending when the run\'s timeout is near, and reports what it has', async () => {
      // timeout 600ms → the run reports by 540ms: requests at 0, 200 and 400ms.
      const t0 = Date.now();
      const r = await run({ host: '127.0.0.1', count: 5, interval: '200ms', every: '1s', timeout: '600ms' });
      assert.deepEqual([r.ok, r.fields!.sent, r.fields!.received], [true, 3, 3]);
      assert.ok(Date.now() - t0 < 560, `took ${Date.now() - t0} ms`);
    });

    it('ends at once when aborted, and leaves no socket open', async () => {
      const ac = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ac.abort(), 100);
      await run({ host: '127.0.0.1', count: 50, interval: '100ms' }, ac.signal);
      assert.ok(Date.now() - t0 < 400, `took ${Date.now() - t0} ms`);
      assert.equal(sharedPinger().stats().inFlight, 0, 'its requests in flight were cancelled');
    });
  });
});
