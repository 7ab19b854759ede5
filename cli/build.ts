import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * Bundles the CLI into one file that runs with plain Node 20 and nothing else installed:
 * `npm run build:cli` writes dist/berth.mjs (`node dist/berth.mjs get deployments`). The
 * end-to-end tests build their own copy once per file, as starting it costs a quarter of what
 * compiling the sources through tsx costs on every command.
 */
export async function buildCliBundle(outfile: string): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL('./bundle-entry.ts', import.meta.url))],
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
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outfile = fileURLToPath(new URL('../dist/berth.mjs', import.meta.url));
  await buildCliBundle(outfile);
  console.log(`built ${outfile}`);
}
