import type { Container } from '../../common/deployment.ts';
import { divisorValue, ENV_NAME, type ResourceField } from '../../common/env.ts';
import { expandVariables } from '../../common/env-expansion.ts';

/**
 * A container's environment, command and args as its agent must run them, resolved from what
 * the control plane holds, as the kubelet resolves them at container start: `envFrom` sources
 * first (a later source wins a name), then `env` in order, each value expanding `$(NAME)` of the
 * variables before it (and of the pod's service variables); `command` and `args` expand against
 * the whole result. A reference that does not resolve is left out (the assignment's configError
 * says why when it was required). Pure: the caller reads secrets, ConfigMaps and the node.
 */

/**
 * A container's resources in millicores and bytes: limits as the agent enforces them (a namespace's
 * default memory limit included), requests as Kubernetes defaults them (to a limit written).
 */
export interface ContainerResources {
  requests: { cpu?: number; memory?: number };
  limits: { cpu?: number; memory?: number };
}

export interface PodEnvContext {
  /** The replica id: a pod's name. */
  podName: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  node: { name: string; address: string; allocatableCpuMillis: number; allocatableMemoryBytes: number };
  secrets: ReadonlyMap<string, { data: Record<string, string> }>;
  configMaps: ReadonlyMap<string, Record<string, string>>;
  /** Variables the pod gets for services (lowest precedence, and never replacing its own). */
  serviceEnv: readonly { name: string; value: string }[];
  /** Each container's resources, by name (for resourceFieldRef). */
  resources: (container: string) => ContainerResources | undefined;
  /** The pod's serviceAccountName (absent: default). */
  serviceAccountName?: string | undefined;
  /** Variables every container gets first (an Indexed Job's JOB_COMPLETION_INDEX); its own env may replace them. */
  podEnv?: readonly { name: string; value: string }[];
}

export interface ResolvedEnv {
  env: { name: string; value: string }[];
  command?: string[];
  args?: string[];
}

export function resolveContainerEnv(
  container: Pick<Container, 'name' | 'env' | 'envFrom' | 'command' | 'args'>,
  ctx: PodEnvContext,
): ResolvedEnv {
  // Insertion order is the order variables are sent in; a later definition replaces the value.
  const env = new Map<string, string>((ctx.podEnv ?? []).map((e) => [e.name, e.value]));
  for (const source of container.envFrom ?? []) {
    const data = source.configMapRef
      ? ctx.configMaps.get(source.configMapRef.name)
      : source.secretRef
        ? ctx.secrets.get(source.secretRef.name)?.data
        : undefined;
    for (const key of Object.keys(data ?? {}).sort()) {
      const name = `${source.prefix ?? ''}${key}`;
      // Kubernetes skips (and reports) keys that cannot be variable names.
      if (ENV_NAME.test(name)) env.set(name, data![key]!);
    }
  }
  const service = new Map(ctx.serviceEnv.map((e) => [e.name, e.value]));
  const lookup = (name: string) => env.get(name) ?? service.get(name);
  for (const e of container.env) {
    const value = e.valueFrom
      ? sourceValue(e.valueFrom, container.name, ctx)
      : expandVariables(e.value ?? '', lookup);
    if (value !== undefined) env.set(e.name, value);
  }
  return {
    env: [...env].map(([name, value]) => ({ name, value })),
    ...(container.command ? { command: container.command.map((s) => expandVariables(s, lookup)) } : {}),
    ...(container.args ? { args: container.args.map((s) => expandVariables(s, lookup)) } : {}),
  };
}

type Source = NonNullable<Container['env'][number]['valueFrom']>;

function sourceValue(from: Source, container: string, ctx: PodEnvContext): string | undefined {
  if (from.secretKeyRef) return ctx.secrets.get(from.secretKeyRef.name)?.data[from.secretKeyRef.key];
  if (from.configMapKeyRef) return ctx.configMaps.get(from.configMapKeyRef.name)?.[from.configMapKeyRef.key];
  if (from.fieldRef) return fieldValue(from.fieldRef.fieldPath, ctx);
  if (from.resourceFieldRef) {
    const { containerName, resource, divisor } = from.resourceFieldRef;
    return resourceValue(resource, divisor, ctx.resources(containerName ?? container), ctx.node);
  }
  return undefined;
}

/** The pod fields of common/env.ts FIELD_PATHS (the schema refuses every other path). */
export function fieldValue(path: string, ctx: PodEnvContext): string | undefined {
  const label = /^metadata\.labels\['(.*)'\]$/.exec(path);
  // A label the pod lacks is an empty value, as in Kubernetes.
  if (label) return ctx.labels[label[1]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return ctx.podName;
    case 'metadata.namespace':
      return ctx.namespace;
    case 'spec.nodeName':
      return ctx.node.name;
    case 'spec.serviceAccountName':
      return ctx.serviceAccountName ?? 'default';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.node.address;
    default:
      return undefined;
  }
}

/**
 * A resource of a container divided by `divisor`, rounded up, as the kubelet writes it. A limit
 * not set is the node's allocatable amount (Kubernetes' rule); a request not set is 0.
 */
export function resourceValue(
  resource: ResourceField,
  divisor: string | number | undefined,
  r: ContainerResources | undefined,
  node: { allocatableCpuMillis: number; allocatableMemoryBytes: number },
): string | undefined {
  const unit = divisorValue(resource, divisor);
  if (!r || unit === undefined) return undefined;
  const amount =
    resource === 'limits.cpu'
      ? (r.limits.cpu ?? node.allocatableCpuMillis)
      : resource === 'limits.memory'
        ? (r.limits.memory ?? node.allocatableMemoryBytes)
        : resource === 'requests.cpu'
          ? (r.requests.cpu ?? 0)
          : (r.requests.memory ?? 0);
  return String(Math.ceil(amount / unit));
}
