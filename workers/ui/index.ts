import type { Context } from 'hono';
import { Hono } from 'hono';
import { basePath } from 'hono/route';
import { clientScript, contentHash } from './script.ts';
import { Shell } from './shell.tsx';
import { styles } from './styles.ts';

interface Asset {
  body: string;
  hash: string;
  type: string;
}

/**
 * Security headers for the HTML shell: everything the page loads comes from this origin (no
 * CDNs, no inline script or style), and it may not be framed.
 */
const SHELL_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-cache',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

function serveAsset(c: Context, asset: Asset): Response {
  const etag = `"${asset.hash}"`;
  // A URL carrying the current hash never changes meaning, so browsers may keep it forever;
  // any other URL revalidates with the ETag.
  const versioned = c.req.query('v') === asset.hash;
  const headers: Record<string, string> = {
    ETag: etag,
    'Cache-Control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  };
  const inm = c.req.header('If-None-Match');
  if (inm?.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(asset.body, { status: 200, headers: { ...headers, 'Content-Type': asset.type } });
}

/**
 * The dashboard: static pages plus a client script that calls the JSON API with the person's
 * token. Needs no database and no filesystem, so it runs unchanged on Node, Deno and Workers.
 * Mount it with `app.route('/ui', createUi())`.
 */
export function createUi(): Hono {
  const app = new Hono();
  let assets: { js: Asset; css: Asset } | undefined;
  // Built on first use rather than at import: Workers frown on work in the global scope.
  const built = () => {
    if (!assets) {
      const js = clientScript();
      assets = {
        js: { body: js, hash: contentHash(js), type: 'text/javascript; charset=utf-8' },
        css: { body: styles, hash: contentHash(styles), type: 'text/css; charset=utf-8' },
      };
    }
    return assets;
  };

  app.get('/assets/app.js', (c) => serveAsset(c, built().js));
  app.get('/assets/app.css', (c) => serveAsset(c, built().css));
  app.get('/assets/*', (c) => c.text('Not found', 404));

  app.get('*', async (c) => {
    const base = basePath(c).replace(/\/+$/, '');
    const { js, css } = built();
    const page = await Shell({
      base,
      apiBase: '',
      scriptSrc: `${base}/assets/app.js?v=${js.hash}`,
      styleSrc: `${base}/assets/app.css?v=${css.hash}`,
    }).toString();
    return c.body(`<!doctype html>\n${page}`, 200, SHELL_HEADERS);
  });

  return app;
}
