import { processIo } from '../cli/io.ts';
import { runAction } from './main.ts';

// The entry GitHub runs (bundled to action/bundle/index.mjs by build.ts).
process.exit(await runAction(processIo()));
