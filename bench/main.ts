import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BerthStack, startBerthStack } from './lib/berth-stack.ts';
import { cleanupAll, installSignalCleanup, onCleanup } from './lib/cleanup.ts';
import { BENCH_LABEL, removeContainersWithLabel, swarmInit } from './lib/engine.ts';
import { checkPrerequisites } from './lib/prereqs.ts';
import { ROOT } from './lib/processes.ts';
import { machine, reportMarkdown, type Section, writeResults } from './lib/report.ts';
import { agentFootprint } from './parts/agent-footprint.ts';
import { applyToReady } from './parts/apply-to-ready.ts';
import { controlPlaneAtScale } from './parts/control-plane.ts';
import { ingressTls } from './parts/ingress-tls.ts';
import { podFeatures } from './parts/pod-features.ts';
import { rollingUpdate } from './parts/rolling-update.ts';
import { scaleUpDown } from './parts/scale.ts';
import { serviceHop } from './parts/service-hop.ts';

/**
 * `npm run bench [-- SUITE]`: Berth against Docker Swarm and the machine's own limits, as one
 * Markdown report on stdout (progress goes to stderr) and bench/results/<timestamp>.json.
 *
 *   all         every part below (the default)
 *   swarm       parts 1-3 on the real Docker Engine, each against Swarm
 *   controller  part 4 (placements/s, no-op tick, API latency, apply → ready with simulated agents)
 *   agent       part 1 for Berth alone (apply → ready, 3 and 30 replicas, and a pod with an init
 *               container and volumes against the same containers on the engine), part 5 (agent
 *               footprint, its proxy serving a service) and part 6 (the service hop's latency)
 *   services    part 6 alone
 *   tls         part 7 (HTTPS at the ingress against a bare node:https server, with simulated agents)
 *
 * Options: --scales 1,2,4 (part 4's sizes, 1x = 250 nodes / 2,500 deployments / 25,000 replicas),
 * --quick (fewer repetitions, 1x and 2x only: a smoke run).
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scales: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const suite = positionals[0] ?? 'all';
const SUITES = ['all', 'swarm', 'controller', 'agent', 'services', 'tls'];
if (!SUITES.includes(suite)) {
  process.stderr.write(`unknown suite "${suite}": one of ${SUITES.join(', ')}\n`);
  process.exit(2);
}
const quick = values.quick;
const scales = (values.scales ?? (quick ? '1,2' : '1,2,4')).split(',').map(Number);
const parts = {
  apply: suite === 'all' || suite === 'swarm' || suite === 'agent',
  rolling: suite === 'all' || suite === 'swarm',
  scale: suite === 'all' || suite === 'swarm',
  controlPlane: suite === 'all' || suite === 'controller',
  footprint: suite === 'all' || suite === 'agent',
  serviceHop: suite === 'all' || suite === 'agent' || suite === 'services',
  ingressTls: suite === 'all' || suite === 'tls',
};
const withSwarm = suite !== 'agent';
const needsDocker = parts.apply || parts.rolling || parts.scale || parts.footprint || parts.serviceHop;

const started = new Date();
const atStart = machine();
const t0 = performance.now();
const log = (s: string) =>
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

installSignalCleanup();
const problems = await checkPrerequisites({ docker: needsDocker, swarm: needsDocker && withSwarm });
if (problems.length) {
  process.stderr.write(`The benchmark cannot run here:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}

const sections: Section[] = [];
const failures: string[] = [];
const runLabel = `bench-${randomBytes(3).toString('hex')}`;

async function part(name: string, fn: () => Promise<Section>): Promise<void> {
  log(`${name}…`);
  const load = machine().load;
  try {
    const section = await fn();
    // Others' work on a shared machine moves the figures: say how busy it was.
    section.notes.push(`Load average when this part started: ${load.map((l) => l.toFixed(2)).join(' ')}.`);
    sections.push(section);
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    failures.push(`${name}: ${message}`);
    log(`${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}

try {
  if (needsDocker) {
    // Anything of this run the engine still holds is removed at the end, whatever happened.
    onCleanup('remove the containers of this run', async () => {
      await removeContainersWithLabel(`${BENCH_LABEL}=${runLabel}`);
      await removeContainersWithLabel(`${BENCH_LABEL}=${runLabel}-raw`);
      await removeContainersWithLabel(`${BENCH_LABEL}=${runLabel}-pod`);
    });
    let stack: BerthStack | undefined;
    try {
      stack = await startBerthStack();
      if (withSwarm && (parts.apply || parts.rolling || parts.scale)) await swarmInit();
      const s = stack;
      if (parts.apply)
        await part('apply to all ready', async () => {
          const sizes = quick
            ? [
                { replicas: 3, repetitions: 2 },
                { replicas: 30, repetitions: 1 },
              ]
            : [
                { replicas: 3, repetitions: 5 },
                { replicas: 30, repetitions: 3 },
              ];
          return (await applyToReady({ stack: s, swarm: withSwarm, sizes, runLabel, log })).section;
        });
      if (parts.apply)
        await part(
          'a pod with an init container and volumes',
          async () => await podFeatures({ stack: s, repetitions: quick ? 2 : 5, runLabel, log }),
        );
      if (parts.rolling)
        await part(
          'rolling update',
          async () =>
            (await rollingUpdate({ stack: s, swarm: withSwarm, sizes: [3, 30], runLabel, log })).section,
        );
      if (parts.scale)
        await part(
          'scale 3 → 30 → 3',
          async () => (await scaleUpDown({ stack: s, swarm: withSwarm, runLabel, log })).section,
        );
      if (parts.serviceHop)
        await part(
          'service hop',
          async () => (await serviceHop({ stack: s, requests: quick ? 500 : 2000, log })).section,
        );
      if (parts.footprint)
        await part(
          'agent footprint',
          async () => (await agentFootprint({ stack: s, seconds: quick ? 10 : 30, log })).section,
        );
    } finally {
      await stack?.stop().catch(() => {});
      // Swarm is left, the Docker part's database dropped, before the control-plane part.
      await cleanupAll();
    }
  }
  if (parts.controlPlane)
    await part('control plane at scale', async () => (await controlPlaneAtScale({ scales, log })).section);
  if (parts.ingressTls)
    await part(
      'HTTPS at the ingress',
      async () => (await ingressTls({ requests: quick ? 100 : 300, log })).section,
    );
} finally {
  await cleanupAll();
}

const seconds = (performance.now() - t0) / 1000;
const markdown = reportMarkdown({ suite, startedAt: started, seconds, machine: atStart, sections, failures });
const file = writeResults(join(ROOT, 'bench', 'results'), started, {
  suite,
  startedAt: started.toISOString(),
  seconds,
  machine: atStart,
  sections: sections.map((s) => ({ title: s.title, data: s.data })),
  failures,
  markdown,
});
process.stdout.write(`${markdown}\n`);
log(`results: ${file}`);
process.exit(failures.length ? 1 : 0);
