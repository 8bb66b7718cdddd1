import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's Chromium, as scripts/install-test-deps.sh installs it (QF_CHROMIUM overrides the path). */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-headless-shell'];

/**
 * A real headless Chromium. Missing is a failure, never a skip: the dashboard's tests are its only
 * proof that pages render, scripts run under the CSP and charts draw.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.QF_CHROMIUM ?? CANDIDATES.find((path) => existsSync(path));
  if (!executablePath || !existsSync(executablePath)) {
    throw new Error(`Chromium is not installed (looked for ${process.env.QF_CHROMIUM ?? CANDIDATES.join(', ')}); run scripts/install-test-deps.sh`);
  }
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Root in CI containers cannot use Chromium's user-namespace sandbox; the pages are our own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
  });
}
