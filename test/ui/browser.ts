import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, never a downloaded one. The flags keep it from calling home (updates, sync,
 * QUIC probes): the machine has no internet, and a test must not wait on it.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.KUMO_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
