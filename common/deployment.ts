import { z } from 'zod';
import { EnvFromSource, EnvVar } from './env.ts';
import {
  EPHEMERAL_STORAGE,
  extendedQuantityProblem,
  isExtendedResourceName,
  resourceListIssues,
} from './extended-resources.ts';
import { initContainerIssues } from './init-container-rules.ts';
import { LabelKey, Labels, LabelValue, Name } from './names.ts';
import { cpuQuantityProblem, memoryQuantityProblem, parseCpu, parseMemory } from './quantity.ts';
import { schedulingFields } from './scheduling.ts';
import { PodSecurityContext, podSecurityIssues, SecurityContext } from './security-context.ts';
import { podVolumeIssues, Volume, VolumeMount } from './volumes.ts';

/**
 * The Deployment as users write it (berth.dev/v1), with Kubernetes names and defaults.
 * Every object is strict: an unknown field is an error with its path, never dropped.
 */

const Port = z.int().min(1).max(65535);
const PortRef = z.union([Port, Name]);

/** Quantities as Kubernetes reads them, within what a node can hold (common/quantity.ts). */
const quantity = (problem: (v: string | number) => string | undefined) =>
  z.union([z.string(), z.number()]).check((ctx) => {
    const message = problem(ctx.value);
    if (message) ctx.issues.push({ code: 'custom', input: ctx.value, message });
  });
export const CpuQuantity = quantity(cpuQuantityProblem);
export const MemoryQuantity = quantity(memoryQuantityProblem);

export const StorageQuantity = quantity(memoryQuantityProblem);

/**
 * cpu, memory, ephemeral-storage and extended resources (common/extended-resources.ts); any other
 * key is unknown, and says so by name as strict objects do.
 */
export const ResourceList = z
  .object({
    cpu: CpuQuantity.optional(),
    memory: MemoryQuantity.optional(),
    [EPHEMERAL_STORAGE]: StorageQuantity.optional(),
  })
  .catchall(z.union([z.string(), z.number()]))
  .check((ctx) => {
    const unknown: string[] = [];
    for (const [name, value] of Object.entries(ctx.value)) {
      if (name === 'cpu' || name === 'memory' || name === EPHEMERAL_STORAGE || value === undefined) continue;
      if (!isExtendedResourceName(name)) unknown.push(name);
      else {
        const message = extendedQuantityProblem(value);
        if (message) ctx.issues.push({ code: 'custom', input: value, path: [name], message });
      }
    }
    if (unknown.length) ctx.issues.push({ code: 'unrecognized_keys', keys: unknown, input: ctx.value });
  });

export const Resources = z
  .strictObject({
    requests: ResourceList.optional(),
    limits: ResourceList.optional(),
  })
  .check((ctx) => {
    // Kubernetes refuses a request above its limit: the limit would cap what was reserved.
    const { requests, limits } = ctx.value;
    for (const [name, parse] of [
      ['cpu', parseCpu],
      ['memory', parseMemory],
    ] as const) {
      const request = requests?.[name];
      const limit = limits?.[name];
      if (request === undefined || limit === undefined) continue;
      if ((parse(request) ?? 0) > (parse(limit) ?? Number.POSITIVE_INFINITY))
        ctx.issues.push({
          code: 'custom',
          input: request,
          path: ['requests', name],
          message: `must be less than or equal to ${name} limit of ${limit}`,
        });
    }
    for (const { path, message } of resourceListIssues(requests, limits))
      ctx.issues.push({ code: 'custom', input: ctx.value, path, message });
  });

export const HttpHeader = z.strictObject({ name: z.string().min(1).max(256), value: z.string().max(4096) });

/**
 * A probe's `host` would make the agent connect wherever a deployer says, from the node's own
 * network, and show the outcome in replica status. Probes reach only the pod's own address (a
 * Host header goes in httpHeaders); Kubernetes' baseline pod security forbids the field too.
 * Empty means the pod's address in Kubernetes, so it is accepted.
 */
const RefusedProbeHost = z
  .string()
  .max(253)
  .optional()
  .refine(
    (h) => !h,
    "host is not supported by Berth (probes connect only to the pod's own address; set a Host header in httpHeaders)",
  );
/** What assignments carry: a template stored before the refusal may still hold a host, which agents ignore. */
const CarriedProbeHost = z.string().max(253).optional();

function probeSchemas(host: typeof CarriedProbeHost) {
  const HttpGetAction = z.strictObject({
    path: z.string().max(2048).default('/'),
    port: PortRef,
    host,
    scheme: z.enum(['HTTP', 'HTTPS']).default('HTTP'),
    httpHeaders: z.array(HttpHeader).max(32).optional(),
  });
  const TcpSocketAction = z.strictObject({ port: PortRef, host });
  const Probe = z
    .strictObject({
      httpGet: HttpGetAction.optional(),
      tcpSocket: TcpSocketAction.optional(),
      exec: ExecAction.optional(),
      grpc: GrpcAction.optional(),
      initialDelaySeconds: z.int().min(0).max(3600).default(0),
      periodSeconds: z.int().min(1).max(3600).default(10),
      timeoutSeconds: z.int().min(1).max(3600).default(1),
      successThreshold: z.int().min(1).max(100).default(1),
      failureThreshold: z.int().min(1).max(100).default(3),
      /**
       * Liveness and startup probes: the grace between SIGTERM and SIGKILL when this probe's
       * failure kills the container (the pod's terminationGracePeriodSeconds otherwise).
       */
      terminationGracePeriodSeconds: z.int().min(1).max(3600).optional(),
    })
    .check((ctx) => {
      const handlers = ['httpGet', 'tcpSocket', 'exec', 'grpc'].filter(
        (k) => ctx.value[k as 'exec'] !== undefined,
      );
      if (handlers.length !== 1) {
        ctx.issues.push({
          code: 'custom',
          input: ctx.value,
          message: 'must specify exactly one of httpGet, tcpSocket, exec, grpc',
        });
      }
    });
  /**
   * A lifecycle hook (Kubernetes' LifecycleHandler). Kubernetes also has tcpSocket here, but
   * never runs it (it is kept for compatibility only), so Berth refuses it rather than accept it.
   */
  const LifecycleHandler = z
    .strictObject({
      exec: ExecAction.optional(),
      httpGet: HttpGetAction.optional(),
      sleep: SleepAction.optional(),
    })
    .check((ctx) => {
      const handlers = ['exec', 'httpGet', 'sleep'].filter((k) => ctx.value[k as 'exec'] !== undefined);
      if (handlers.length !== 1)
        ctx.issues.push({
          code: 'custom',
          input: ctx.value,
          message: 'must specify exactly one of exec, httpGet, sleep',
        });
    });
  /**
   * postStart runs right after the container starts (it is not Running until the hook returns; a
   * failure kills it); preStop runs before SIGTERM, within the grace period (see agent/README.md).
   */
  const Lifecycle = z.strictObject({
    postStart: LifecycleHandler.optional(),
    preStop: LifecycleHandler.optional(),
  });
  return { HttpGetAction, TcpSocketAction, Probe, Lifecycle };
}

export const ExecAction = z.strictObject({ command: z.array(z.string().max(4096)).min(1).max(64) });
/** A lifecycle hook that waits on the node (Kubernetes' SleepAction). */
export const SleepAction = z.strictObject({ seconds: z.int().min(0).max(3600) });
/**
 * The standard gRPC health check (grpc.health.v1.Health/Check) of `service` ('' or absent: the
 * whole server) on a port number, as Kubernetes takes it (no port names).
 */
export const GrpcAction = z.strictObject({ port: Port, service: z.string().max(1024).optional() });
const written = probeSchemas(RefusedProbeHost);
/** Probes as users write them. */
export const HttpGetAction = written.HttpGetAction;
export const TcpSocketAction = written.TcpSocketAction;
export const Probe = written.Probe;
export type Probe = z.infer<typeof Probe>;
export const Lifecycle = written.Lifecycle;
export type Lifecycle = z.infer<typeof Lifecycle>;
export type LifecycleHandler = NonNullable<Lifecycle['postStart']>;
const carried = probeSchemas(CarriedProbeHost);
/** Probes as assignments carry them to agents (see CarriedProbeHost). */
export const AssignedHttpGetAction = carried.HttpGetAction;
export const AssignedTcpSocketAction = carried.TcpSocketAction;
export const AssignedProbe = carried.Probe;
export const AssignedLifecycle = carried.Lifecycle;

// A container's environment (env, envFrom) has its own module: it is most of what a pod reads.
export { EnvFromSource, EnvVar, SecretKeyRef } from './env.ts';

export const ContainerPort = z.strictObject({
  name: z
    .string()
    .max(15)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .optional(),
  containerPort: Port,
  hostPort: Port.optional(),
  protocol: z.enum(['TCP', 'UDP']).default('TCP'),
});

export const Container = z
  .strictObject({
    name: Name,
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(/^[^\s]+$/, 'must be an image reference without spaces'),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    command: z.array(z.string().max(4096)).max(256).optional(),
    args: z.array(z.string().max(4096)).max(256).optional(),
    workingDir: z.string().max(4096).optional(),
    env: z.array(EnvVar).max(512).default([]),
    // Optional, not defaulted: a default would change the hash of every stored template.
    envFrom: z.array(EnvFromSource).max(64).optional(),
    ports: z.array(ContainerPort).max(64).default([]),
    resources: Resources.default({}),
    readinessProbe: Probe.optional(),
    livenessProbe: Probe.optional(),
    /** Readiness and liveness wait for its first success; failureThreshold failures kill the container. */
    startupProbe: Probe.optional(),
    lifecycle: Lifecycle.optional(),
    // Optional, not defaulted, as envFrom (common/security-context.ts).
    securityContext: SecurityContext.optional(),
    // Optional, not defaulted, as envFrom (common/volumes.ts).
    volumeMounts: z.array(VolumeMount).max(64).optional(),
  })
  .check((ctx) => {
    // Kubernetes' rules for the probes that end in a kill rather than in a readiness verdict.
    const c = ctx.value;
    const issue = (path: (string | number)[], message: string) =>
      ctx.issues.push({ code: 'custom', input: c, path, message });
    for (const kind of ['livenessProbe', 'startupProbe'] as const) {
      const p = c[kind];
      if (p && p.successThreshold !== 1) issue([kind, 'successThreshold'], 'must be 1');
    }
    if (c.readinessProbe?.terminationGracePeriodSeconds !== undefined)
      issue(['readinessProbe', 'terminationGracePeriodSeconds'], 'must not be set for readinessProbes');
  });
export type Container = z.infer<typeof Container>;

/** A container, and `restartPolicy: Always` makes it a sidecar (common/init-containers.ts). */
export const InitContainer = Container.safeExtend({ restartPolicy: z.literal('Always').optional() });
export type InitContainer = z.infer<typeof InitContainer>;

/**
 * Kubernetes' shape has no field for `drainDelaySeconds` (Berth's wait between leaving the
 * endpoints and SIGTERM): a Kubernetes manifest sets it with this pod-template annotation, and the
 * Kubernetes API shows it so, which survives kubectl's typed round trips (`rollout undo`).
 */
export const DRAIN_DELAY_ANNOTATION = 'berth.dev/drain-delay-seconds';
export const DEFAULT_DRAIN_DELAY_SECONDS = 2;

export const PodSpec = z
  .strictObject({
    containers: z.array(Container).min(1).max(16),
    // Optional, not defaulted: a default would change the hash of every stored template.
    initContainers: z.array(InitContainer).max(16).optional(),
    restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).default('Always'),
    nodeSelector: z.record(LabelKey, LabelValue).default({}),
    terminationGracePeriodSeconds: z.int().min(0).max(3600).default(30),
    /** Seconds a replica keeps serving after it leaves its services' endpoints, before SIGTERM. */
    drainDelaySeconds: z.int().min(0).max(300).default(DEFAULT_DRAIN_DELAY_SECONDS),
    imagePullSecrets: z
      .array(z.strictObject({ name: Name }))
      .max(16)
      .default([]),
    securityContext: PodSecurityContext.optional(),
    /** Recorded, and read by env fieldRef; absent is `default`. Berth mounts no API token. */
    serviceAccountName: Name.optional(),
    automountServiceAccountToken: z.boolean().optional(),
    /** false: no Kubernetes service variables (<SVC>_SERVICE_HOST…); absent is true. Not defaulted (hash). */
    enableServiceLinks: z.boolean().optional(),
    // affinity, tolerations, topologySpreadConstraints (common/scheduling.ts)
    ...schedulingFields,
    // Optional, not defaulted: a default would change the hash of every stored template.
    volumes: z.array(Volume).max(64).optional(),
  })
  .check((ctx) => {
    for (const { path, message } of podVolumeIssues(ctx.value))
      ctx.issues.push({ code: 'custom', input: ctx.value, path, message });
    for (const { path, message } of podSecurityIssues(ctx.value))
      ctx.issues.push({ code: 'custom', input: ctx.value, path, message });
    for (const { path, message } of initContainerIssues(ctx.value))
      ctx.issues.push({ code: 'custom', input: ctx.value, path, message });
    const seen = new Set<string>();
    ctx.value.containers.forEach((c, i) => {
      if (seen.has(c.name))
        ctx.issues.push({
          code: 'custom',
          input: c.name,
          path: ['containers', i, 'name'],
          message: `duplicate container name "${c.name}"`,
        });
      seen.add(c.name);
      // A sleep hook longer than the grace could never finish (Kubernetes refuses it too).
      const grace = ctx.value.terminationGracePeriodSeconds;
      for (const hook of ['postStart', 'preStop'] as const) {
        const seconds = c.lifecycle?.[hook]?.sleep?.seconds;
        if (seconds !== undefined && seconds > grace)
          ctx.issues.push({
            code: 'custom',
            input: seconds,
            path: ['containers', i, 'lifecycle', hook, 'sleep', 'seconds'],
            message: `must be at most terminationGracePeriodSeconds (${grace})`,
          });
      }
    });
  });
export type PodSpec = z.infer<typeof PodSpec>;

/** The annotation `kubectl rollout restart` stamps on a pod template: a new value is a new revision. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

export const PodTemplate = z.strictObject({
  metadata: z
    .strictObject({
      labels: Labels.default({}),
      // The only pod annotation Berth keeps (others carry no behaviour); absent, it is not in the hash.
      annotations: z.strictObject({ [RESTARTED_AT_ANNOTATION]: z.string().max(64) }).optional(),
    })
    .default({ labels: {} }),
  spec: PodSpec,
});
export type PodTemplate = z.infer<typeof PodTemplate>;

/** Integer or percentage, as Kubernetes' IntOrString for maxSurge/maxUnavailable. */
export const IntOrPercent = z.union([
  z.int().min(0).max(100000),
  z.string().regex(/^(100|[1-9]?\d)%$/, 'must be an integer or a percentage between 0% and 100%'),
]);
export type IntOrPercent = z.infer<typeof IntOrPercent>;

export const Strategy = z
  .strictObject({
    type: z.enum(['RollingUpdate', 'Recreate']).default('RollingUpdate'),
    rollingUpdate: z
      .strictObject({
        maxSurge: IntOrPercent.default('25%'),
        maxUnavailable: IntOrPercent.default('25%'),
      })
      .optional(),
  })
  .transform((s) =>
    s.type === 'RollingUpdate'
      ? { type: s.type, rollingUpdate: s.rollingUpdate ?? { maxSurge: '25%', maxUnavailable: '25%' } }
      : { type: s.type },
  );
export type Strategy = z.infer<typeof Strategy>;

export const DeploymentSpec = z
  .strictObject({
    replicas: z.int().min(0).max(10000).default(1),
    selector: z.strictObject({ matchLabels: Labels }).optional(),
    template: PodTemplate,
    strategy: Strategy.default({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    }),
    minReadySeconds: z.int().min(0).max(3600).default(0),
    progressDeadlineSeconds: z.int().min(1).max(86400).default(600),
    revisionHistoryLimit: z.int().min(0).max(100).default(10),
    paused: z.boolean().default(false),
    autoRollback: z.boolean().default(false),
  })
  .check((ctx) => {
    const s = ctx.value;
    if (s.strategy.type === 'Recreate' && 'rollingUpdate' in s.strategy && s.strategy.rollingUpdate) {
      ctx.issues.push({
        code: 'custom',
        input: s.strategy,
        path: ['strategy', 'rollingUpdate'],
        message: 'may not be set when type is Recreate',
      });
    }
    const labels = s.template.metadata.labels;
    for (const [k, v] of Object.entries(s.selector?.matchLabels ?? {})) {
      if (labels[k] !== v)
        ctx.issues.push({
          code: 'custom',
          input: s.selector,
          path: ['selector', 'matchLabels', k],
          message: `selector does not match template labels (template.metadata.labels.${k} must be "${v}")`,
        });
    }
  });
export type DeploymentSpec = z.infer<typeof DeploymentSpec>;

/** Metadata as written; read-only fields are accepted (so GET → edit → PUT works) and ignored. */
export const ObjectMetaInput = z.strictObject({
  name: Name.optional(),
  namespace: Name.optional(),
  labels: Labels.optional(),
  annotations: z.record(z.string().max(253), z.string().max(65536)).optional(),
  resourceVersion: z
    .string()
    .regex(/^\d{1,18}$/, 'must be a resourceVersion read from the server')
    .optional(),
  uid: z.string().max(64).optional(),
  generation: z.int().optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
});
export type ObjectMetaInput = z.infer<typeof ObjectMetaInput>;

export const DeploymentInput = z.strictObject({
  apiVersion: z.literal('berth.dev/v1').optional(),
  kind: z.literal('Deployment').optional(),
  metadata: ObjectMetaInput.default({}),
  spec: DeploymentSpec,
  status: z.unknown().optional(),
});
export type DeploymentInput = z.infer<typeof DeploymentInput>;

/** The pod template as stored in a revision: what identifies a revision is a hash of this. */
export type Template = PodTemplate;
