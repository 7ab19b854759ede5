import { build } from 'esbuild';

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
  banner: { js: '#!/usr/bin/env node' },
  legalComments: 'none',
  logLevel: 'warning',
});
console.log(`built ${outfile}`);
