'use strict';
// The Wall tab: messages written into the shared queue "wall", which keeps the last 25.
const QUEUE = 'wall';
const KEEP = 25;

module.exports = {
  rpc: {
    'wall.post': {
      summary: 'write a message on the wall (the last 25 are kept)',
      params: {
        type: 'object', additionalProperties: false, required: ['text'],
        properties: { name: { type: 'string', maxLength: 40 }, text: { type: 'string', minLength: 1, maxLength: 500 } },
      },
      write: true,
      async handler(params, page) {
        const message = { name: params.name || 'anonymous', text: params.text, at: new Date().toISOString() };
        const length = await page.shared.queues.push(QUEUE, message, { maxLength: KEEP });
        return { length };
      },
    },
    'wall.list': {
      summary: 'the messages on the wall, newest first',
      params: { type: 'object', additionalProperties: false, properties: {} },
      write: false,
      async handler(_params, page) {
        return (await page.shared.queues.all(QUEUE)).reverse();
      },
    },
  },
};
