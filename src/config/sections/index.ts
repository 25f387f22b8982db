import type { ConfigSection } from '../section';
import { blocksSection } from './blocks';
import { nodeSection } from './node';
import { sharedSection } from './shared';
import { storageSection } from './storage';

/** coreSections are the top-level keys every config has, in this order; the loader always includes them. */
export const coreSections: readonly ConfigSection[] = [nodeSection, storageSection, sharedSection, blocksSection];

export { blocksSection, nodeSection, sharedSection, storageSection };
