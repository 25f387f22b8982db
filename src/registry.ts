import { builtinBlockTypes } from '../blocks';
import { alertsPlugin } from './alerts/plugin';
import { alertSections } from './alerts/sections';
import { clusterPlugin } from './cluster/plugin';
import { clusterSection } from './cluster/section';
import { coreSections } from './config/sections';
import { createDerivePlugin, deriveSection } from './derive';
import { createPagesPlugin, webSection } from './pages';
import { peersPlugin } from './peers/plugin';
import { peersSection } from './peers/section';
import { rpcPlugin } from './rpc/plugin';
import { createSlaPlugin, slasSection } from './sla';
import type { ConfigSection, Registry } from './config/section';
import type { NodePlugin } from './engine/plugin';

/**
 * sections are the top-level keys of monitor.yaml this node understands, in order: the
 * core ones, then one per subsystem. A subsystem declares its section in its own folder
 * (src/<subsystem>/section.ts) and is listed here.
 */
const sections: readonly ConfigSection[] = [
  ...coreSections,
  deriveSection,
  slasSection,
  ...alertSections,
  webSection,
  clusterSection,
  peersSection,
];

/**
 * plugins are the subsystems that plug into a running node, beside their sections: each
 * in its own folder (src/<subsystem>/plugin.ts), listed here.
 */
const plugins: readonly NodePlugin[] = [createDerivePlugin(), createSlaPlugin(), alertsPlugin(), rpcPlugin(), createPagesPlugin(), clusterPlugin(), peersPlugin()];

/**
 * registry is the composition of remon: the built-in block types (blocks/index.ts), the
 * config sections and the plugins. The CLI passes it to loadConfig and the engine; the
 * config loader itself imports no block or subsystem.
 */
export const registry: Registry = { types: builtinBlockTypes, sections, plugins };

/** REGISTRY_MODULE is this module's path, for loadConfigIsolated's worker (it can be given no functions). */
export const REGISTRY_MODULE = __filename;
