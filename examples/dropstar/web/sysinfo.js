'use strict';
// The System tab: a table of what a few shell commands say about this machine, run when
// the page is asked for (each bounded to 2 s and 4 kB of output).
const { execFile } = require('node:child_process');
const os = require('node:os');

const COMMANDS = [
  ['Kernel', 'uname', ['-srm']],
  ['Uptime', 'uptime', ['-p']],
  ['Load', 'cat', ['/proc/loadavg']],
  ['Memory', 'free', ['-m']],
  ['Disk /', 'df', ['-h', '/']],
];

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 2000, maxBuffer: 4096 }, (err, stdout, stderr) => {
      resolve(err ? `(${cmd}: ${String(stderr || err.message).trim()})` : String(stdout).trim());
    });
  });
}

module.exports = {
  async GET() {
    const rows = await Promise.all(COMMANDS.map(async ([name, cmd, args]) => ({ name, command: [cmd, ...args].join(' '), value: await run(cmd, args) })));
    rows.unshift({ name: 'Host', command: 'os.hostname()', value: os.hostname() }, { name: 'CPUs', command: 'os.cpus()', value: String(os.cpus().length) });
    return { rows };
  },
};
