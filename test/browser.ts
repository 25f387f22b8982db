import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { requirePeer } from './peers';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * launchChromium starts Debian's Chromium headless through playwright-core, with the flags
 * this closed network needs (no background connections); playwright gives it a fresh profile. The suite
 * fails without Chromium under REMON_REQUIRE_INTEGRATION=1 and is skipped otherwise.
 */
export async function launchChromium(ctx: Mocha.Context): Promise<Browser> {
  requirePeer(ctx, 'chromium', fs.existsSync(CHROMIUM), 'apt-get install chromium');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  return browser;
}
