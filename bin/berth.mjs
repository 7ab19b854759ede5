#!/usr/bin/env node
// The `berth` CLI from a checkout: runs cli/main.ts through tsx's loader, so no build is needed.
// (A single-file build for machines without the repository: npm run build:cli → dist/berth.mjs.)
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli/main.ts');
const code = await run(process.argv.slice(2));
// Exit at once with the code: an idle keep-alive socket must not hold the process open.
process.exit(code);
