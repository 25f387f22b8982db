import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rrdCommand } from '../src/cli/rrd';

/*
 * A transcript is a session with an rrd command line, kept as text (test/fixtures/rrdtool):
 *
 *   # a comment            kept as it is
 *   % touch F | % rm F     prepares the directory (an empty file; no file)
 *   $ ARGS                 runs `remon rrd ARGS` or `rrdtool ARGS`; words ending in .rrd
 *                          are files in a fresh directory
 *   > LINE                 a line of its standard output
 *   ! LINE                 the first line of its error output, when it fails with exit 1
 *                          ("! [exit N] LINE" for another exit code)
 *
 * renderTranscript runs the commands of a transcript with one tool and writes the session
 * again with the outputs that tool gave; a tool agrees with a transcript when the rendering
 * is the transcript itself.
 */

/** Tool runs one command line in dir: exit code, standard output, error output. */
export type Tool = (args: string[], dir: string) => { code: number; out: string; err: string };

/** remonTool runs `remon rrd` in this process. */
export const remonTool: Tool = (args) => {
  let out = '';
  let err = '';
  const code = rrdCommand(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
};

/** RRDTOOL is Debian's rrdtool, the reference. */
export const RRDTOOL = '/usr/bin/rrdtool';

/** rrdtoolTool runs the real rrdtool. */
export const rrdtoolTool: Tool = (args, dir) => {
  const r = spawnSync(RRDTOOL, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};

/**
 * HIDDEN are output lines that say how a file is laid out rather than what it holds, left
 * out for both tools: the file name, the header size (the formats differ), and the current
 * row of each archive (rrdtool starts it at random; its own script drops it too).
 */
const HIDDEN = [/^filename = /, /^header_size = /, /^remon_format = /, /^rra\[\d+\]\.cur_row = /];

/** renderTranscript runs the transcript's commands with tool in a fresh dir and returns the session as that tool gave it. */
export function renderTranscript(text: string, tool: Tool, dir: string): string {
  const out: string[] = [];
  const file = (w: string): string => (w.endsWith('.rrd') && !w.includes('/') ? path.join(dir, w) : w);
  for (const line of text.split('\n')) {
    if (line.startsWith('>') || line.startsWith('!')) continue;
    out.push(line);
    if (line.startsWith('% ')) {
      const [what, name] = line.slice(2).trim().split(/\s+/);
      if (what === 'touch') fs.writeFileSync(file(name), '');
      else if (what === 'rm') fs.rmSync(file(name), { force: true });
      else throw new Error(`unknown step "${line}"`);
      continue;
    }
    if (!line.startsWith('$ ')) continue;
    const r = tool(line.slice(2).trim().split(/\s+/).map(file), dir);
    const shown = (t: string): string => t.split(`${dir}/`).join('');
    if (r.code !== 0) {
      const first = shown(r.err).split('\n')[0];
      out.push(`! ${r.code === 1 ? '' : `[exit ${r.code}] `}${first}`);
      continue;
    }
    const lines = shown(r.out).replace(/\n$/, '').split('\n');
    if (r.out === '') continue;
    for (const l of lines) if (!HIDDEN.some((h) => h.test(l))) out.push(l === '' ? '>' : `> ${l}`);
  }
  return out.join('\n');
}

/** outputsOf gives the output lines of each command of a transcript matching `command`, in order. */
export function outputsOf(text: string, command: RegExp): string[] {
  const blocks: string[] = [];
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('$ ')) {
      current = command.test(line.slice(2)) ? [] : undefined;
      if (current) blocks.push('');
    } else if (current && (line.startsWith('>') || line.startsWith('!'))) {
      blocks[blocks.length - 1] += `${line}\n`;
    }
  }
  return blocks;
}
