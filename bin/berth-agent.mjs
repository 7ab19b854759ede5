#!/usr/bin/env node
// Runs berth-agent from a checkout (TypeScript through tsx). Installed machines run the
// single-file bundle instead: `npm run build:agent` writes dist/berth-agent.mjs.
import { register } from 'tsx/esm/api';

register();
await import('../agent/main.ts');
