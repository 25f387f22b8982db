import { BlockType } from '../src/engine/block';
import { heartbeatBlock } from './heartbeat';
import { httpBlock } from './http';
import { pingBlock } from './ping';
import { redisBlock } from './redis';
import { shellBlock } from './shell';
import { snmpBlock } from './snmp';
import { sqlBlock } from './sql';
import { trapBlock } from './trap';

/** builtinBlockTypes is the explicit registry of the block types remon ships. */
export const builtinBlockTypes: readonly BlockType[] = [shellBlock, heartbeatBlock, pingBlock, httpBlock, snmpBlock, sqlBlock, redisBlock, trapBlock];
