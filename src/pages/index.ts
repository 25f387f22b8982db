/**
 * src/pages: the drop-in pages of the web UI (DESIGN "Drop-in pages"): templates, page
 * scripts and their RPC methods, static assets, the status page's data; docs/pages.md.
 */
export { createPagesPlugin, BUILTIN_PAGES } from './plugin';
export { webSection } from './section';
export type { WebConfig, StatusConfig } from './section';
export type { PageApi, PageRequest, RespondOptions } from './api';
