import { builtinBlockTypes } from '../blocks';
import { coreSections } from './config/sections';
import type { ConfigSection, Registry } from './config/section';

/**
 * sections are the top-level keys of monitor.yaml this node understands, in order: the
 * core ones, then one per subsystem. A subsystem declares its section in its own folder
 * (src/<subsystem>/section.ts) and is listed here.
 */
const sections: readonly ConfigSection[] = [
  ...coreSections,
];

/**
 * registry is the composition of remon: the built-in block types (blocks/index.ts) and the
 * config sections. The CLI passes it to loadConfig; the config loader itself imports no
 * block or subsystem.
 */
export const registry: Registry = { types: builtinBlockTypes, sections };

/** REGISTRY_MODULE is this module's path, for loadConfigIsolated's worker (it can be given no functions). */
export const REGISTRY_MODULE = __filename;
