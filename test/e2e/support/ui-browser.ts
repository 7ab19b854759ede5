import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium: tests never download a browser. */
export const CHROMIUM = process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'output', 'ui');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions, console errors and failed same-origin requests, for `toEqual([])`. */
  problems: string[];
}

/**
 * A fresh context (own sessionStorage) whose page records everything that would mean a broken
 * dashboard. `expectedStatus` lists HTTP statuses a test provokes on purpose (e.g. 403 for a
 * viewer), which Chromium otherwise reports as console errors.
 */
export async function openPage(
  browser: Browser,
  opts: { width?: number; height?: number; expectedStatus?: number[]; colorScheme?: 'light' | 'dark' } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1366, height: opts.height ?? 768 },
    colorScheme: opts.colorScheme ?? 'light',
    reducedMotion: 'reduce',
  });
  // Playwright's 30 s default is a quiet machine's: with every test lane running beside Chromium
  // on two cores, a first paint was seen to take longer. The tests' own 180 s limit still holds.
  context.setDefaultTimeout(90_000);
  const page = await context.newPage();
  const problems: string[] = [];
  const expected = new Set(opts.expectedStatus ?? []);
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // Chromium logs every non-2xx fetch as "Failed to load resource"; those the test expects are fine.
    const m = /status of (\d{3})/.exec(msg.text());
    if (m && expected.has(Number(m[1]))) return;
    problems.push(`console: ${msg.text()}`);
  });
  page.on('requestfailed', (req) => {
    const failure = req.failure()?.errorText ?? '';
    // Navigations cancel in-flight polls; that is not an error.
    if (failure.includes('ERR_ABORTED')) return;
    problems.push(`requestfailed: ${req.method()} ${req.url()} ${failure}`);
  });
  return { context, page, problems };
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.locator('input[name="token"]').fill(token);
  await page.locator('input[name="token"]').press('Enter');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
