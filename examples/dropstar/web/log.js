'use strict';
// The Log tab: the tail of the application log the "applog" block writes, newest first,
// each line split into time, level and message. Read over RPC (log.tail) every 5 s.
const fs = require('node:fs');
const path = require('node:path');

const FILE = path.join(__dirname, '..', 'data', 'app.log');
const MAX_BYTES = 64 * 1024;

function tail(lines) {
  let text = '';
  try {
    const fd = fs.openSync(FILE, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(0, size - MAX_BYTES);
      const buf = Buffer.alloc(size - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      text = buf.toString('utf8');
      if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
  return text.split('\n').filter(Boolean).slice(-lines).reverse().map((line) => {
    const m = /^(\S+)\s+(DEBUG|INFO|WARN|ERROR)\s+(.*)$/.exec(line);
    return m ? { at: m[1], level: m[2], message: m[3] } : { at: '', level: 'INFO', message: line };
  });
}

module.exports = {
  rpc: {
    'log.tail': {
      summary: 'the newest lines of the demo application log, newest first',
      params: { type: 'object', additionalProperties: false, properties: { lines: { type: 'integer', minimum: 1, maximum: 200 } } },
      write: false,
      handler: async (params) => tail(params.lines || 50),
    },
  },
};
