/**
 * A real Net-SNMP agent (Debian's `snmpd`) for tests and benchmarks: started in the
 * foreground on a free loopback UDP port, with its own config and persistent directory in
 * a temp dir (so /var/lib/snmp is never touched), a v1/v2c community, v3 users, and a
 * `pass` subtree under .1.3.6.1.4.1.99999 whose values the test sets (setValue).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from './helpers';

/** PASS_BASE is the subtree the test controls (no leading dot). */
export const PASS_BASE = '1.3.6.1.4.1.99999';

export const SNMPD_V3 = {
  /** authPriv: SHA + AES. */
  user: 'remon',
  authKey: 'authpass123',
  privKey: 'privpass123',
  /** authNoPriv: SHA only. */
  authUser: 'remonauth',
};

export interface Snmpd {
  host: string;
  port: number;
  community: string;
  dir: string;
  /** setValue sets what the agent answers for PASS_BASE.<suffix>: a pass type (counter, counter64, gauge, integer, timeticks, string) and value. */
  setValue(suffix: string, type: string, value: string | number): void;
  /** removeValue makes PASS_BASE.<suffix> unknown again. */
  removeValue(suffix: string): void;
  /** The agent's output so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
  /** restart stops the agent and starts it again on the same port (its v3 engine boots count goes up). */
  restart(): Promise<void>;
}

/** snmpdPath finds the snmpd binary (it is in /usr/sbin, often not on a user's PATH). */
export function snmpdPath(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  return dirs.map((d) => path.join(d, 'snmpd')).find((f) => {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** hasSnmpTools tells whether the snmpget client is installed (the benchmark compares with it). */
export function snmpgetPath(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin'];
  return dirs.map((d) => path.join(d, 'snmpget')).find((f) => fs.existsSync(f));
}

/** freeUdpPort is a loopback UDP port nobody holds right now. */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** OID order: numeric, component by component. */
function compareOids(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * The pass script answers -g (get) and -n (get-next) from a file of "OID TYPE VALUE" lines
 * kept in OID order, with awk, so it costs one small process per request.
 */
const PASS_SCRIPT = `#!/bin/sh
exec awk -v mode="$1" -v req="$2" '
function cmp(a, b,   x, y, n, m, i) {
  n = split(a, x, "."); m = split(b, y, ".")
  for (i = 2; i <= n && i <= m; i++) { if (x[i] + 0 < y[i] + 0) return -1; if (x[i] + 0 > y[i] + 0) return 1 }
  return n < m ? -1 : n > m ? 1 : 0
}
{ oid = $1; type = $2; val = $0; sub(/^[^ ]+ [^ ]+ /, "", val) }
mode == "-g" && oid == req { print oid; print type; print val; exit }
mode == "-n" && cmp(oid, req) > 0 { print oid; print type; print val; exit }
' "$(dirname "$0")/values"
`;

/** startSnmpd starts an agent; it fails with the agent's output when it does not come up. */
export async function startSnmpd(): Promise<Snmpd> {
  const bin = snmpdPath();
  if (!bin) throw new Error('snmpd is not installed (apt-get install snmpd)');
  const dir = tmpDir('remon-snmpd-');
  const persist = path.join(dir, 'persist');
  fs.mkdirSync(persist);
  const values = new Map<string, string>();
  const writeValues = (): void => {
    const lines = [...values.entries()].sort(([a], [b]) => compareOids(a, b)).map(([oid, tv]) => `.${oid} ${tv}`);
    fs.writeFileSync(path.join(dir, 'values.tmp'), lines.join('\n') + '\n');
    fs.renameSync(path.join(dir, 'values.tmp'), path.join(dir, 'values'));
  };
  writeValues();
  fs.writeFileSync(path.join(dir, 'pass.sh'), PASS_SCRIPT, { mode: 0o755 });
  const community = 'remontest';
  fs.writeFileSync(path.join(dir, 'snmpd.conf'), [
    `[snmp] persistentDir ${persist}`,
    'dontLogTCPWrappersConnects yes',
    `rocommunity ${community} 127.0.0.1`,
    `createUser ${SNMPD_V3.user} SHA "${SNMPD_V3.authKey}" AES "${SNMPD_V3.privKey}"`,
    `createUser ${SNMPD_V3.authUser} SHA "${SNMPD_V3.authKey}"`,
    `rouser ${SNMPD_V3.user} authpriv`,
    `rouser ${SNMPD_V3.authUser} auth`,
    `pass .${PASS_BASE} /bin/sh ${path.join(dir, 'pass.sh')}`,
    '',
  ].join('\n'));

  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();

  /** launch starts the agent on port; false when it exits (the port was taken) or does not come up. */
  const launch = async (port: number): Promise<boolean> => {
    output = '';
    const c = spawn(bin, ['-f', '-Lo', '-C', '-c', path.join(dir, 'snmpd.conf'), `udp:127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SNMP_PERSISTENT_DIR: persist, MIBS: '' },
    });
    child = c;
    c.stdout!.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20000); });
    c.stderr!.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20000); });
    exited = new Promise((resolve) => c.once('exit', resolve));
    // snmpd prints its version once it listens, or exits when it cannot bind.
    for (let i = 0; i < 400; i++) {
      if (/NET-SNMP version/.test(output)) return true;
      if (c.exitCode !== null || c.signalCode !== null) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    c.kill('SIGKILL');
    return false;
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeUdpPort();
    if (!(await launch(port))) {
      lastError = output.trim();
      continue;
    }
    return {
      host: '127.0.0.1',
      port,
      community,
      dir,
      setValue(suffix, type, value) {
        values.set(`${PASS_BASE}.${suffix}`, `${type} ${value}`);
        writeValues();
      },
      removeValue(suffix) {
        values.delete(`${PASS_BASE}.${suffix}`);
        writeValues();
      },
      log: () => output,
      stop,
      async restart() {
        await stop();
        if (!(await launch(port))) throw new Error(`snmpd did not restart on port ${port}: ${output.trim()}`);
      },
    };
  }
  throw new Error(`snmpd did not start: ${lastError || '(no output)'}`);
}
