import { run } from './main.ts';

// The entry of dist/berth.mjs (see build.ts).
process.exit(await run(process.argv.slice(2)));
