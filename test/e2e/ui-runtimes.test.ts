import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { Hono } from 'hono';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUi } from '../../workers/ui/index.ts';
import { launchBrowser, openPage, SCREENSHOT_DIR, signIn } from './support/ui-browser.ts';
import { STUB_TOKENS, startStubServer } from './support/ui-stub-api.ts';

/**
 * The client script is the client modules' functions as the runtime's compiler emitted them
 * (`fn.toString()`). Each compiler emits differently, so run the page as each one builds it:
 * esbuild as wrangler bundles for Workers (keepNames, with and without minifying) and Deno.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Serves `ui` inside the stub API and checks that a person can sign in and use it. */
async function exercise(ui: { fetch: (req: Request) => Response | Promise<Response> }): Promise<string> {
  const stub = await startStubServer({ ui, tickMs: 200 });
  const { context, page, problems } = await openPage(browser);
  try {
    await page.goto(`${stub.url}/ui/deployments/default/web`);
    await signIn(page, STUB_TOKENS.admin);
    await page.getByRole('heading', { level: 1, name: 'web' }).waitFor();
    await page.locator('table.replicas tbody tr').first().waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: 'Nodes' }).click();
    await page.locator('.node-card').first().waitFor();
    // The policy page is another module's function, served the same way.
    await page.getByRole('link', { name: 'Policy' }).click();
    await page.locator('[data-field="hostSuffixes"]', { hasText: 'shop.example.com' }).waitFor();
    await page.getByRole('button', { name: 'Save policy' }).waitFor();
    expect(problems).toEqual([]);
    return await (await fetch(`${stub.url}/ui/assets/app.js`)).text();
  } finally {
    await context.close();
    await stub.close();
  }
}

async function bundleLikeWrangler(minify: boolean): Promise<{ fetch: (req: Request) => Promise<Response> }> {
  const outdir = join(SCREENSHOT_DIR, '..', 'ui-bundles');
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, `ui-worker${minify ? '-min' : ''}.mjs`);
  await build({
    entryPoints: [join(import.meta.dirname, 'support', 'ui-worker-entry.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    keepNames: true,
    minify,
    logLevel: 'silent',
  });
  const mod = (await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`)) as {
    default: { fetch: (req: Request) => Promise<Response> };
  };
  return mod.default;
}

describe('the dashboard script as each runtime compiles it', () => {
  it('runs when bundled like wrangler does for Workers (esbuild, keepNames)', async () => {
    const js = await exercise(await bundleLikeWrangler(false));
    // The case the prelude exists for: inner functions wrapped in the keepNames helper.
    expect(js).toContain('__name(');
  });

  it('runs when that bundle is also minified (the helper gets a short name)', async () => {
    const js = await exercise(await bundleLikeWrangler(true));
    expect(js).toMatch(/var [\w$]+ = __name;/);
  });

  it('runs as Deno compiles it', async () => {
    const { stdout } = await run(
      join(ROOT, 'node_modules', '.bin', 'deno'),
      [
        'eval',
        "import { clientScript } from './workers/ui/script.ts'; await Deno.stdout.write(new TextEncoder().encode(clientScript()));",
      ],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
    );
    expect(stdout).toContain('function startDashboard');
    // Deno's shell is the same as Node's; only the script differs, so serve Deno's script.
    const ui = new Hono();
    ui.get('/ui/assets/app.js', (c) =>
      c.body(stdout, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }),
    );
    ui.route('/ui', createUi());
    await exercise(ui);
  });
});
