import { BlockType } from '../src/engine/block';

/**
 * feeds holds, per block name, the values a `feed` block reports next, one per run: a
 * number becomes its `value` field; `undefined` (or an empty queue) a run without it.
 */
export const feeds: Record<string, Array<number | undefined>> = {};

/**
 * feedBlock is an in-process block type whose values the test controls (derived series
 * tests): each run reports the next value queued in `feeds[name]` as the field `value`.
 */
export const feedBlock: BlockType<{ name: string }> = {
  type: 'feed',
  description: 'test feed: reports the values a test queued, one per run',
  schema: { properties: {} },
  fields: () => ['value'],
  create(o) {
    return {
      async run() {
        const v = feeds[o.name]?.shift();
        const fields: Record<string, number> = v === undefined ? {} : { value: v };
        return { ok: true, fields };
      },
    };
  },
};
