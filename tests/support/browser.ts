import { chromium, type Browser } from 'playwright-core';
import { DEBIAN_TOOLS, ensureDebianTools } from '../../platform/debian.ts';

/**
 * Headless Chromium from Debian's package (installed on first use), driven by playwright-core:
 * no browser download. Playwright gives each launch a fresh temporary profile; each
 * `newContext()` is a separate browser identity (its own storage), as a second person would be.
 * The flags keep Chromium from calling home, which a closed network answers with refusals.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Muted video may start without a gesture; the tests read video time, not sound.
  '--autoplay-policy=no-user-gesture-required',
];

/** Chromium's fake camera and microphone (a moving pattern and a beep), granted without asking. */
export const FAKE_MEDIA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const { chromium: executablePath } = ensureDebianTools([DEBIAN_TOOLS.chromium], {
    info: (m) => console.log(m),
    warn: (m) => console.error(m),
  });
  return chromium.launch({ executablePath: executablePath!, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
