import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allReady, httpdDeployment } from '../lib/berth-api.ts';
import type { BerthStack } from '../lib/berth-stack.ts';
import { BENCH_LABEL, docker, httpOk, IMAGE_1, removeContainersWithLabel } from '../lib/engine.ts';
import type { Section } from '../lib/report.ts';
import { fmtRatio, fmtSummary, summarize } from '../lib/stats.ts';

/**
 * Part 1b: what a pod's setup costs. The same replica three ways, interleaved per repetition:
 * a plain pod (one container), a pod with an init container that writes into an emptyDir and a
 * configMap volume mounted in the app container, and those same containers run straight through
 * the Engine API (a volume, the init container to its exit, then the app with the volume and the
 * config file bound in, until it answers).
 */

const CONFIG_MAP = 'bench-pod-config';
const INIT_SCRIPT = 'echo prepared > /work/marker';

function featuredDeployment(app: string) {
  const plain = httpdDeployment({ replicas: 1, app, drainDelaySeconds: 0 });
  const pod = plain.spec.template.spec as Record<string, unknown> & { containers: Record<string, unknown>[] };
  pod.initContainers = [
    {
      name: 'prepare',
      image: IMAGE_1,
      command: ['sh', '-c', INIT_SCRIPT],
      volumeMounts: [{ name: 'work', mountPath: '/work' }],
    },
  ];
  pod.volumes = [
    { name: 'work', emptyDir: {} },
    { name: 'config', configMap: { name: CONFIG_MAP } },
  ];
  pod.containers[0]!.volumeMounts = [
    { name: 'work', mountPath: '/work' },
    { name: 'config', mountPath: '/etc/app', readOnly: true },
  ];
  return plain;
}

async function berthOnce(stack: BerthStack, name: string, body: unknown): Promise<number> {
  const t0 = performance.now();
  await stack.api.putDeployment(name, body);
  const { at } = await stack.api.waitFor(name, allReady(1), { what: '1 ready', timeoutMs: 120_000 });
  await stack.clear(name);
  return at - t0;
}

/** The same pod by hand: volume, init container to its exit, app container until it answers. */
async function engineOnce(runLabel: string, configDir: string): Promise<number> {
  const label = `${BENCH_LABEL}=${runLabel}`;
  const t0 = performance.now();
  const volume = await docker.createVolume({ Labels: { [BENCH_LABEL]: runLabel } });
  const binds = [`${volume.name}:/work`];
  const init = await docker.createContainer({
    Image: IMAGE_1,
    Entrypoint: ['sh', '-c', INIT_SCRIPT],
    Labels: { [BENCH_LABEL]: runLabel },
    HostConfig: { Binds: binds },
  });
  await init.start();
  const exit = (await init.wait()) as { StatusCode: number };
  if (exit.StatusCode !== 0) throw new Error(`init container exited ${exit.StatusCode}`);
  const app = await docker.createContainer({
    Image: IMAGE_1,
    Labels: { [BENCH_LABEL]: runLabel },
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: {
      Init: true,
      Binds: [...binds, `${configDir}:/etc/app:ro`],
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    },
  });
  await app.start();
  const info = await app.inspect();
  const port = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
  while (!(await httpOk(port))) await new Promise((r) => setTimeout(r, 20));
  const ms = performance.now() - t0;
  await removeContainersWithLabel(label);
  await docker
    .getVolume(volume.name)
    .remove()
    .catch(() => {});
  return ms;
}

export async function podFeatures(o: {
  stack: BerthStack;
  repetitions: number;
  runLabel: string;
  log: (s: string) => void;
}): Promise<Section> {
  const configDir = mkdtempSync(join(tmpdir(), 'berth-bench-config-'));
  writeFileSync(join(configDir, 'app.conf'), 'greeting=hello\n');
  await o.stack.api.call('PUT', `/v1/namespaces/default/configmaps/${CONFIG_MAP}`, {
    data: { 'app.conf': 'greeting=hello\n' },
  });
  const plainMs: number[] = [];
  const featuredMs: number[] = [];
  const engineMs: number[] = [];
  try {
    // Untimed first round: images and caches warm for every timed one.
    await berthOnce(o.stack, 'pod-warm', featuredDeployment('pod-warm'));
    for (let rep = 1; rep <= o.repetitions; rep++) {
      plainMs.push(
        await berthOnce(
          o.stack,
          `pod-plain-${rep}`,
          httpdDeployment({ replicas: 1, app: `pod-plain-${rep}`, drainDelaySeconds: 0 }),
        ),
      );
      featuredMs.push(
        await berthOnce(o.stack, `pod-featured-${rep}`, featuredDeployment(`pod-featured-${rep}`)),
      );
      engineMs.push(await engineOnce(`${o.runLabel}-pod`, configDir));
      o.log(
        `pod features #${rep}: plain ${Math.round(plainMs.at(-1)!)} ms, ` +
          `init + emptyDir + configMap ${Math.round(featuredMs.at(-1)!)} ms, engine ${Math.round(engineMs.at(-1)!)} ms`,
      );
    }
  } finally {
    rmSync(configDir, { recursive: true, force: true });
    await o.stack.api.call('DELETE', `/v1/namespaces/default/configmaps/${CONFIG_MAP}`).catch(() => {});
  }
  const plain = summarize(plainMs);
  const featured = summarize(featuredMs);
  const engine = summarize(engineMs);
  return {
    title: 'A pod with an init container and volumes, apply to ready (real Docker Engine)',
    intro:
      'One replica of `berth-test/httpd:1` (readiness `httpGet /healthz`, periodSeconds 1), `PUT` until ' +
      '`readyReplicas == 1`: a plain pod, and a pod whose init container writes into an `emptyDir` that the ' +
      'app container mounts beside a `configMap` volume. Engine: the same containers created and started ' +
      'through the Engine API (a named volume, the init container until it exits, then the app container ' +
      'with the volume and a bind-mounted config directory) until the app answers `/healthz`.',
    columns: ['figure', 'Berth', 'engine, same containers', 'Berth ÷ engine'],
    rows: [
      ['plain pod, apply → ready', fmtSummary(plain), '', ''],
      [
        'init container + emptyDir + configMap volume, apply → ready',
        fmtSummary(featured),
        fmtSummary(engine),
        fmtRatio(featured.median, engine.median),
      ],
      [
        'what the init container and volumes add (medians)',
        `${Math.round(featured.median - plain.median)} ms`,
        '',
        '',
      ],
    ],
    notes: [
      "The engine's figure has no readiness probe period to wait for: it polls /healthz every 20 ms, " +
        'while Berth reports ready after the first successful probe (period 1 s, first probe at start).',
    ],
    data: { plainMs, featuredMs, engineMs },
  };
}
