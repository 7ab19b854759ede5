import { readFileSync } from 'node:fs';

declare const __BERTH_VERSION__: string | undefined;

/**
 * The package version. The bundles (dist/berth.mjs, the Action) get it as a constant at build
 * time, so they do not carry package.json; run from a checkout it is read from package.json.
 */
export const CLI_VERSION: string =
  typeof __BERTH_VERSION__ === 'string'
    ? __BERTH_VERSION__
    : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
        .version;
