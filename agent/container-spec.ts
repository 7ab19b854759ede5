import { createHash } from 'node:crypto';
import type { Assignment } from '../common/agent-protocol.ts';
import { NVIDIA_GPU } from '../common/extended-resources.ts';
import { claimMounts } from './claim-volumes.ts';
import { type ContainerPolicy, containerDefaults, DEFAULT_CONTAINER_POLICY } from './container-defaults.ts';
import type { CreateSpec } from './driver/driver.ts';
import {
  containerName,
  LABEL_CONTAINER,
  LABEL_DEPLOYMENT,
  LABEL_GRACE,
  LABEL_NAMESPACE,
  LABEL_NODE,
  LABEL_REPLICA,
  LABEL_REVISION,
  LABEL_SPEC_HASH,
} from './labels.ts';
import { namespaceNetwork } from './namespace-network.ts';
import { defaultVolumeRoots, planMounts, type VolumeRoots } from './pod-volumes.ts';

export interface PlannedContainer {
  name: string;
  spec: CreateSpec;
  /** Identifies the container's configuration: an adopted container is kept only if it matches. */
  hash: string;
}

/**
 * Turns an assigned replica into Docker create specs, one per container in order. The first
 * container owns the pod's network namespace, on its namespace's network, and publishes the ports
 * of every container; the others join it (networkFrom is filled in at create time, once the
 * owner's id is known). Every container gets the defaults of container-defaults.ts.
 */
export function planContainers(
  a: Assignment,
  node: string,
  hostIp: string,
  policy: ContainerPolicy = DEFAULT_CONTAINER_POLICY,
  volumeRoots: VolumeRoots = defaultVolumeRoots(node),
  dns?: CreateSpec['dns'],
): PlannedContainer[] {
  const network = namespaceNetwork(a.namespace);
  const publish: CreateSpec['publish'] = [];
  const seen = new Set<string>();
  for (const c of a.containers) {
    for (const p of c.ports) {
      const key = `${p.containerPort}/${p.protocol}`;
      if (seen.has(key)) continue;
      seen.add(key);
      publish.push({
        containerPort: p.containerPort,
        protocol: p.protocol,
        ...(p.hostPort ? { hostPort: p.hostPort } : {}),
      });
    }
  }
  return a.containers.map((c, i) => {
    const base: Omit<CreateSpec, 'labels'> = {
      name: containerName(node, a.id, c.name),
      image: c.image,
      ...(c.command ? { entrypoint: c.command } : {}),
      ...(c.args ? { cmd: c.args } : {}),
      ...(c.workingDir ? { workingDir: c.workingDir } : {}),
      env: c.env.map((e) => `${e.name}=${e.value}`),
      publish: i === 0 ? publish : [],
      hostIp,
      network,
      ...(c.resources.cpuLimitMillis ? { nanoCpus: c.resources.cpuLimitMillis * 1_000_000 } : {}),
      // Other extended resources are counted by the scheduler only (common/extended-resources.ts).
      ...(c.resources.extended?.[NVIDIA_GPU] ? { gpus: c.resources.extended[NVIDIA_GPU] } : {}),
      ...containerDefaults(c, policy),
      // Paths only: new files of a volume never change the hash (agent/pod-volumes.ts).
      ...(c.volumeMounts?.length
        ? { mounts: [...planMounts(a, c, volumeRoots), ...claimMounts(a, c, node)] }
        : {}),
    };
    const hash = specHash(base);
    const labels: Record<string, string> = {
      [LABEL_NODE]: node,
      [LABEL_REPLICA]: a.id,
      [LABEL_DEPLOYMENT]: `${a.namespace}/${a.deployment}`,
      [LABEL_NAMESPACE]: a.namespace,
      [LABEL_REVISION]: String(a.revision),
      [LABEL_CONTAINER]: c.name,
      [LABEL_SPEC_HASH]: hash,
      [LABEL_GRACE]: String(a.terminationGracePeriodSeconds),
    };
    // The cluster DNS is left out of the hash: the first service map (or an agent upgrade) must not
    // recreate every running container; one made without it keeps the engine's DNS until replaced.
    const withDns = i === 0 && dns ? { dns } : {};
    return { name: c.name, spec: { ...base, ...withDns, labels }, hash };
  });
}

export function specHash(v: unknown): string {
  return createHash('sha256').update(stableJson(v)).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
