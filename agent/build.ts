import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * Bundles berth-agent into one ESM file for installation (node20, every dependency inside).
 * Modules dockerode loads but the agent never uses are replaced by stubs that throw if called:
 * ssh2 and its native cpu-features (DOCKER_HOST=ssh://), and gRPC/protobuf (BuildKit sessions).
 * Besides making the bundle work without them, this keeps the agent's memory small.
 */
const STUBBED = ['ssh2', 'cpu-features', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'];

const stubs: Plugin = {
  name: 'berth-stubs',
  setup(b) {
    const filter = new RegExp(`^(${STUBBED.map((s) => s.replace(/[/.]/g, '\\$&')).join('|')})(/.*)?$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'berth-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'berth-stub' }, (args) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not included in the berth-agent bundle`)}); };
module.exports = new Proxy(fail, { get: (_t, k) => (k === '__esModule' ? false : fail), apply: fail, construct: fail });`,
      loader: 'js',
    }));
  },
};

/** zod's error messages in 40 languages are a third of the bundle; the agent speaks English. */
const englishOnly: Plugin = {
  name: 'berth-zod-english',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/].*[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

export async function buildAgent(outfile: string): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'linked',
    sourcemap: false,
    plugins: [stubs, englishOnly],
    // CommonJS dependencies call require() for Node built-ins; give the ESM bundle one.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../dist/berth-agent.mjs', import.meta.url));
  await buildAgent(out);
  process.stdout.write(`wrote ${out}\n`);
}
