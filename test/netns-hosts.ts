/**
 * Test hosts in network namespaces: a client namespace wired by a veth pair to each target
 * namespace, so tests (and the ping benchmark) probe real hosts without touching the
 * machine's own network: no address, route or rule is added outside the namespaces, and
 * only addresses inside them are ever targeted. Every namespace, file and process made
 * here is removed by destroy(), and at process exit if a test died first; namespaces left
 * by a killed run are swept on the next one.
 *
 *   client ── t<i> 10.0.<i>.1/24, fd00:<i>::1/64 ── veth ── eth0 10.0.<i>.2/24, fd00:<i>::2/64 ── target i
 *
 * Loss is injected with an nftables rule in a target (`numgen random`), delay with an echo
 * responder (Python, raw sockets) that answers after a chosen time while the target's
 * kernel does not answer echo requests itself.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';

/** TargetSpec: one target namespace, numbered from 1 (its subnet is 10.0.<n>.0/24, fd00:<n>::/64). */
export interface TargetSpec {
  name: string;
  /** Extra IPv4 addresses on the target's interface (the benchmark's 1,000 hosts). */
  extraV4?: string[];
}

export interface Target {
  name: string;
  ns: string;
  /** The target's own addresses, and the client's address on the same link. */
  v4: string;
  v6: string;
  clientV4: string;
  clientV6: string;
  /** An address on the target's subnet that no host has. */
  absentV4: string;
  absentV6: string;
}

const PREFIX = 'remon-t';
const run = (args: string[], input?: string): string => execFileSync(args[0], args.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

/** netnsUnavailable says why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const [tool, pkg] of [['ip', 'iproute2'], ['nft', 'nftables'], ['python3', 'python3']]) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `${tool} is not installed (apt-get install ${pkg})`;
    }
  }
  const probe = `${PREFIX}${process.pid}-probe`;
  try {
    run(['ip', 'netns', 'add', probe]);
    run(['ip', 'netns', 'del', probe]);
  } catch (err) {
    return `cannot create a network namespace: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/** sweepStale removes namespaces (and their /etc/netns files) of test processes that are gone. */
function sweepStale(): void {
  let list = '';
  try {
    list = run(['ip', 'netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-\\S+)`).exec(line);
    if (!m || fs.existsSync(`/proc/${m[2]}`)) continue;
    removeNamespace(m[1]);
  }
}

function removeNamespace(ns: string): void {
  try {
    for (const pid of run(['ip', 'netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
  } catch {
    // No such namespace.
  }
  try { run(['ip', 'netns', 'del', ns]); } catch { /* already gone */ }
  fs.rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
}

const live = new Set<NetnsLab>();
process.on('exit', () => { for (const lab of live) lab.destroy(); });

/** NetnsLab: a client namespace and its targets. */
export class NetnsLab {
  readonly client: string;
  readonly targets = new Map<string, Target>();
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();

  /** create builds the namespaces; `hosts` lines become the client's /etc/hosts. */
  static create(specs: TargetSpec[], hosts: string[] = []): NetnsLab {
    sweepStale();
    const lab = new NetnsLab();
    live.add(lab);
    try {
      lab.build(specs, hosts);
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  private constructor() {
    this.client = `${PREFIX}${process.pid}-${crypto.randomBytes(3).toString('hex')}-c`;
  }

  private build(specs: TargetSpec[], hosts: string[]): void {
    this.addNamespace(this.client);
    // The client resolves names from its own hosts file only: no DNS query leaves it.
    const etc = `/etc/netns/${this.client}`;
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(`${etc}/hosts`, ['127.0.0.1 localhost', '::1 localhost', ...hosts, ''].join('\n'));
    fs.writeFileSync(`${etc}/nsswitch.conf`, 'hosts: files\n');
    fs.writeFileSync(`${etc}/resolv.conf`, 'nameserver 127.0.0.1\n');
    specs.forEach((spec, i) => {
      const n = i + 1;
      const ns = this.client.replace(/-c$/, `-${n}`);
      this.addNamespace(ns);
      const t: Target = {
        name: spec.name, ns,
        v4: `10.0.${n}.2`, v6: `fd00:${n}::2`, clientV4: `10.0.${n}.1`, clientV6: `fd00:${n}::1`,
        absentV4: `10.0.${n}.99`, absentV6: `fd00:${n}::99`,
      };
      run(['ip', '-n', this.client, 'link', 'add', `t${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      const batch = (inNs: string, lines: string[]): void => { run(['ip', '-n', inNs, '-batch', '-'], lines.join('\n') + '\n'); };
      batch(this.client, [
        `addr add ${t.clientV4}/24 dev t${n}`,
        `addr add ${t.clientV6}/64 dev t${n} nodad`,
        `link set t${n} up`,
      ]);
      batch(ns, [
        `addr add ${t.v4}/24 dev eth0`,
        `addr add ${t.v6}/64 dev eth0 nodad`,
        ...(spec.extraV4 ?? []).map((a) => `addr add ${a}/32 dev eth0`),
        'link set eth0 up',
      ]);
      if (spec.extraV4?.length) {
        // The extra addresses are reached through the target's main address.
        run(['ip', '-n', this.client, 'route', 'add', ...extraRoute(spec.extraV4), 'via', t.v4]);
      }
      this.targets.set(spec.name, t);
    });
    // Until the kernel's link watcher has marked both ends up (it may take a second), a
    // packet is dropped: the first neighbour solicitation would be retried a second later.
    const links = [...this.targets.values()].flatMap((t, i) => [[this.client, `t${i + 1}`], [t.ns, 'eth0']]);
    const end = Date.now() + 5000;
    for (const [ns, dev] of links) {
      while (!/ state UP /.test(run(['ip', '-n', ns, '-o', 'link', 'show', 'dev', dev]))) {
        if (Date.now() > end) throw new Error(`${dev} in ${ns} did not come up`);
        execFileSync('sleep', ['0.05']);
      }
    }
  }

  private addNamespace(ns: string): void {
    run(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // No duplicate address detection: a link-local address still tentative holds back
    // neighbour discovery, and with it the first IPv6 packets, for about a second.
    this.sysctl(ns, 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
  }

  target(name: string): Target {
    const t = this.targets.get(name);
    if (!t) throw new Error(`no target ${name}`);
    return t;
  }

  /** exec runs a command in a namespace and returns its stdout. */
  exec(ns: string, args: string[], input?: string): string {
    return run(['ip', 'netns', 'exec', ns, ...args], input);
  }

  /** sysctl sets kernel parameters of a namespace (e.g. net.ipv4.icmp_echo_ignore_all=1). */
  sysctl(ns: string, ...settings: string[]): void {
    this.exec(ns, ['sysctl', '-qw', ...settings]);
  }

  /** dropEchoRequests makes a target drop pct% of the echo requests it receives, at random. */
  dropEchoRequests(name: string, pct: number): void {
    this.exec(this.target(name).ns, ['nft', '-f', '-'], `table inet remon_loss {
  chain input {
    type filter hook input priority 0; policy accept;
    icmp type echo-request numgen random mod 100 < ${pct} drop
    icmpv6 type echo-request numgen random mod 100 < ${pct} drop
  }
}
`);
  }

  /**
   * delayEchoReplies turns the target's kernel echo replies off and starts a responder
   * that answers each echo request (IPv4 and IPv6) after delayMs. Resolves once it listens.
   */
  async delayEchoReplies(name: string, delayMs: number): Promise<void> {
    const t = this.target(name);
    this.sysctl(t.ns, 'net.ipv4.icmp_echo_ignore_all=1', 'net.ipv6.icmp.echo_ignore_all=1');
    const child = this.spawnIn(t.ns, 'python3', ['-u', '-c', RESPONDER, String(delayMs)]);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`echo responder exited (${code}): ${err.trim()}`)));
    });
  }

  /** spawnIn starts a process in a namespace; destroy() kills it. */
  spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** destroy kills what runs in the namespaces and removes them; safe to call twice. */
  destroy(): void {
    for (const c of this.children) c.kill('SIGKILL');
    this.children.clear();
    for (const ns of this.namespaces.splice(0).reverse()) removeNamespace(ns);
    live.delete(this);
  }
}

/** extraRoute is the smallest prefix covering the addresses (all in one /16 by construction). */
function extraRoute(addrs: string[]): string[] {
  const first = addrs[0].split('.').map(Number);
  return [`${first[0]}.${first[1]}.0.0/16`];
}

/**
 * The echo responder: raw ICMP and ICMPv6 sockets, each echo request answered after the
 * delay (argv[1], ms) with the same identifier, sequence and payload. The kernel computes
 * ICMPv6 checksums; the IPv4 one is computed here.
 */
const RESPONDER = String.raw`
import heapq, select, socket, struct, sys, time
delay = float(sys.argv[1]) / 1000.0
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s > 0xffff: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
pending, n = [], 0
print('ready', flush=True)
while True:
    timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
    readable, _, _ = select.select([s4, s6], [], [], timeout)
    for s in readable:
        data, addr = s.recvfrom(65535)
        icmp = bytearray(data[(data[0] & 15) * 4:] if s is s4 else data)
        if len(icmp) < 8 or icmp[0] != (8 if s is s4 else 128): continue
        icmp[0] = 0 if s is s4 else 129
        icmp[2:4] = b'\0\0'
        if s is s4: icmp[2:4] = struct.pack('!H', csum(bytes(icmp)))
        n += 1
        heapq.heappush(pending, (time.monotonic() + delay, n, s, bytes(icmp), addr))
    while pending and pending[0][0] <= time.monotonic():
        _, _, s, reply, addr = heapq.heappop(pending)
        s.sendto(reply, addr)
`;
