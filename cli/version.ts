import pkg from '../package.json' with { type: 'json' };

/** The package version, bundled into dist/berth.mjs and the Action at build time. */
export const CLI_VERSION: string = pkg.version;
