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
  const problems: string[] = [];
  await sendThroughPlaywright(context, problems);
  const page = await context.newPage();
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

/**
 * The page's requests are made by Playwright's own HTTP client and handed to the page. Chromium
 * fails every in-flight request with ERR_NETWORK_CHANGED whenever an interface's address changes,
 * and the Docker Engines beside these tests add and remove bridges all the time, so a request
 * through Chromium's own stack failed a test now and then for no fault of the dashboard. The page
 * still runs its own fetches, redirects, timeouts and rendering; only the socket is not Chromium's.
 * A server that is down still reads as a network error in the page. A log follow's stream is the
 * one exception (below).
 */
async function sendThroughPlaywright(context: BrowserContext, problems: string[]): Promise<void> {
  await context.route('**/*', async (route) => {
    // A followed log is a stream that lasts until the page aborts it, and Playwright's client
    // hands a response over only once it is complete: this one request goes through Chromium.
    if (/\/log\?(.*&)?follow=true/.test(route.request().url())) {
      await route.continue().catch(() => {});
      return;
    }
    let response: Awaited<ReturnType<typeof route.fetch>> | undefined;
    for (let attempt = 0; !response; attempt++) {
      try {
        // No redirects here: the page follows them itself, as it would over the network.
        response = await route.fetch({ maxRedirects: 0, timeout: 0 });
      } catch (err) {
        // A kept-alive socket the server closed as idle just as it was reused: the request never
        // reached the server, and a browser sends it again on a new connection. So does this.
        if (attempt < 2 && /ECONNRESET|socket hang up|EPIPE/.test(String(err))) continue;
        problems.push(
          `fetch of ${route.request().method()} ${route.request().url()}: ${String(err).split('\n')[0]}`,
        );
        await route.abort('connectionrefused').catch(() => {});
        return;
      }
    }
    // A navigation may have cancelled the request meanwhile.
    await route.fulfill({ response }).catch(() => {});
  });
}
