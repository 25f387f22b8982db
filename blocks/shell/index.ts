import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BlockInstance, BlockType, RunContext, RunOutput } from '../../src/engine/block';
import { parsedFields, parseOutput, ParseSpec } from './parse';

/** ShellOptions: the block's keys in monitor.yaml (see README.md). */
export interface ShellOptions {
  name: string;
  command: string | string[];
  env?: Record<string, string>;
  cwd?: string;
  ok_codes?: number[];
  parse?: ParseSpec;
  max_output?: number;
}

const DEFAULT_MAX_OUTPUT = 64 * 1024;
/** How long to wait for stdout/stderr to close once the command has exited. */
const PIPE_GRACE_MS = 1000;

/** Capture keeps the first `max` bytes of a stream and counts the rest. */
class Capture {
  private chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  constructor(private readonly max: number) {}
  add(chunk: Buffer): void {
    const room = this.max - this.kept;
    if (room <= 0) { this.dropped += chunk.length; return; }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
    this.dropped += chunk.length - part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** killGroup kills the whole process group led by pid (the command and its children). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** abortReason words why the run was aborted (the engine may pass a reason). */
function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError' && r.message) return r.message;
  return '';
}

function firstLine(s: string): string {
  const line = s.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

class ShellBlock implements BlockInstance {
  private readonly okCodes: ReadonlySet<number>;
  constructor(private readonly o: ShellOptions, private readonly configDir: string, private readonly name: string) {
    this.okCodes = new Set(o.ok_codes ?? [0]);
  }

  run(ctx: RunContext): Promise<RunOutput> {
    const o = this.o;
    const [file, args] = typeof o.command === 'string' ? ['/bin/sh', ['-c', o.command]] : [o.command[0], o.command.slice(1)];
    const max = o.max_output ?? DEFAULT_MAX_OUTPUT;
    return new Promise<RunOutput>((resolve) => {
      if (ctx.signal.aborted) return resolve({ ok: false, message: 'aborted before start' });
      const cwd = o.cwd ? path.resolve(this.configDir, o.cwd) : this.configDir;
      // detached: the command leads its own process group, so a timeout kills its children too.
      const child = spawn(file, args, {
        cwd,
        env: { ...process.env, ...o.env, REMON_BLOCK: this.name },
        detached: true,
        stdio: [ctx.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
      const out = new Capture(max);
      const err = new Capture(max);
      child.stdout!.on('data', (c: Buffer) => out.add(c));
      child.stderr!.on('data', (c: Buffer) => err.add(c));
      if (ctx.input && child.stdin) {
        child.stdin.on('error', () => {});
        child.stdin.end(JSON.stringify(ctx.input));
      }
      let settled = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const finish = (r: RunOutput): void => {
        if (settled) return;
        settled = true;
        if (graceTimer) clearTimeout(graceTimer);
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      // Do not wait for pipes held open by anything that escaped the group.
      const closePipes = (): void => {
        child.stdout!.destroy();
        child.stderr!.destroy();
      };
      const onAbort = (): void => {
        killGroup(child.pid);
        closePipes();
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', (e) => {
        const why = (e as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(cwd) ? `cwd ${cwd} does not exist` : e.message;
        finish({ ok: false, message: `cannot run ${file}: ${why}` });
      });
      child.on('exit', () => {
        // Children left in the group (a backgrounded `sleep &`) die with the command, so
        // they neither outlive the run nor hold its stdout open until the timeout.
        killGroup(child.pid);
        graceTimer = setTimeout(closePipes, PIPE_GRACE_MS);
        graceTimer.unref();
      });
      child.on('close', (code, sig) => {
        const stdout = out.text();
        const stderr = err.text();
        const output = stdout + (out.dropped ? `\n[… ${out.dropped} more bytes]` : '') +
          (stderr ? `\n--- stderr ---\n${stderr}` : '') + (err.dropped ? `\n[… ${err.dropped} more bytes of stderr]` : '');
        if (ctx.signal.aborted) {
          const why = abortReason(ctx.signal);
          return finish({ ok: false, message: why ? `killed: ${why}` : 'killed', output });
        }
        const fields: Record<string, number> = {};
        if (code === null) return finish({ ok: false, fields, message: `killed by ${sig}`, output });
        fields.exit_code = code;
        const parsed = parseOutput(o.parse ?? 'none', stdout);
        if ('fields' in parsed) Object.assign(fields, parsed.fields);
        // A bad exit code says more than the unparsable output it usually comes with.
        if (!this.okCodes.has(code)) {
          const why = firstLine(stderr) || firstLine(stdout);
          const expected = [...this.okCodes].join(' or ');
          return finish({ ok: false, fields, message: `exit code ${code}, expected ${expected}${why ? `: ${why}` : ''}`, output });
        }
        if ('error' in parsed) return finish({ ok: false, fields, message: parsed.error, output });
        finish({ ok: true, fields, output });
      });
    });
  }
}

/** shellBlock runs a command and turns its exit code and output into a result. */
export const shellBlock: BlockType<ShellOptions> = {
  type: 'shell',
  description: 'Run a command; its exit code gives ok, its stdout gives fields.',
  schema: {
    required: ['command'],
    properties: {
      command: {
        description: 'A string run by /bin/sh -c, or an argv list run directly.',
        type: ['string', 'array'],
        minLength: 1,
        minItems: 1,
        items: { type: 'string' },
        'x-expected': 'a command string or a list of arguments',
      },
      env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra environment variables.' },
      cwd: { type: 'string', description: 'Working directory, relative to monitor.yaml.' },
      ok_codes: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0, maximum: 255 }, description: 'Exit codes that mean ok (default [0]).' },
      parse: {
        description: 'How stdout becomes fields: number, json, kv, none, or {regex} with named groups.',
        type: ['string', 'object'],
        pattern: '^(?:none|number|json|kv)$',
        'x-expected': 'number, json, kv, none, or {regex: "..."} with named groups',
        additionalProperties: false,
        required: ['regex'],
        properties: { regex: { type: 'string', minLength: 1 } },
      },
      max_output: { type: 'integer', minimum: 1, maximum: 16777216, description: 'Bytes of stdout and of stderr kept (default 65536).' },
    },
  },
  check(o) {
    const problems: Array<[string, string]> = [];
    if (typeof o.parse === 'object') {
      try {
        const re = new RegExp(o.parse.regex);
        if (!/\(\?<[A-Za-z_]/.test(re.source)) problems.push(['parse.regex', 'has no named group; name each value, e.g. (?<load1>\\S+)']);
      } catch (e) {
        problems.push(['parse.regex', `is not a valid regular expression: ${(e as Error).message}`]);
      }
    }
    return problems;
  },
  fields: (o) => parsedFields(o.parse ?? 'none'),
  create(o, env) {
    return new ShellBlock(o, env.configDir, env.name);
  },
};
