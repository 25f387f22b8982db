export { deriveSection, DeriveConfig } from './section';
export { createDerivePlugin, deriveList } from './plugin';
export { Deriver, DeriverOptions, DerivedStatus } from './deriver';
