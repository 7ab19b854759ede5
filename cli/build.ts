import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * Bundles the CLI into one file, dist/berth.mjs, that runs with plain Node 20 and nothing else
 * installed: `node dist/berth.mjs get deployments`.
 */
const outfile = new URL('../dist/berth.mjs', import.meta.url).pathname;

await build({
  entryPoints: [new URL('./bundle-entry.ts', import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: {
    js: [
      '#!/usr/bin/env node',
      // yaml ships CommonJS for Node; its require() calls need a real require in an ES module.
      "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);",
    ].join('\n'),
  },
  legalComments: 'none',
  define: { __BERTH_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});
console.log(`built ${outfile}`);
