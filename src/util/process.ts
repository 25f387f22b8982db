import { spawn } from 'node:child_process';

/** ProcessResult is how a command ended: its exit code (null when killed) and the first bytes of its output. */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** stdout then stderr, cut to maxOutput bytes. */
  output: string;
  /** Set when it could not be started (ENOENT, EACCES). */
  error?: string;
}

/** RunProcessOptions: environment additions, standard input, and limits. */
export interface RunProcessOptions {
  env?: Record<string, string>;
  input?: string;
  timeoutMs: number;
  maxOutput?: number;
}

/** killGroup kills the process group led by pid (the command and whatever it started). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/**
 * runProcess runs argv (no shell; give ['/bin/sh', '-c', line] for one) in its own process
 * group, writes input to its stdin, and resolves when it ends or, after timeoutMs, when it
 * was killed with everything it started. It never rejects.
 */
export function runProcess(argv: readonly string[], o: RunProcessOptions): Promise<ProcessResult> {
  const max = o.maxOutput ?? 4096;
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    let done = false;
    const finish = (r: Omit<ProcessResult, 'output' | 'timedOut'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, timedOut, output });
    };
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...o.env }, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const keep = (c: Buffer): void => {
      if (output.length < max) output += c.toString('utf8').slice(0, max - output.length);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
    }, o.timeoutMs);
    child.on('error', (err) => finish({ code: null, signal: null, error: err.message }));
    child.on('exit', () => killGroup(child.pid));
    child.on('close', (code, signal) => finish({ code, signal }));
  });
}

/** describeExit words how a command ended when it did not exit 0: "exit code 3: <first line>", "timed out after 10s". */
export function describeExit(r: ProcessResult, timeoutText: string): string | undefined {
  const first = r.output.trim().split('\n')[0]?.slice(0, 200) ?? '';
  if (r.error) return `cannot run it: ${r.error}`;
  if (r.timedOut) return `timed out after ${timeoutText}`;
  if (r.code === 0) return undefined;
  return `${r.code === null ? `killed by ${r.signal}` : `exit code ${r.code}`}${first ? `: ${first}` : ''}`;
}
