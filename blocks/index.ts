import { BlockType } from '../src/engine/block';
import { heartbeatBlock } from './heartbeat';
import { shellBlock } from './shell';

/** builtinBlockTypes is the explicit registry of the block types remon ships. */
export const builtinBlockTypes: readonly BlockType[] = [shellBlock, heartbeatBlock];
