import { z } from 'zod';
import {
  AssignedLifecycle,
  AssignedProbe,
  ExecAction,
  AssignedHttpGetAction as HttpGetAction,
  AssignedTcpSocketAction as TcpSocketAction,
} from './deployment.ts';
import { isExtendedResourceName } from './extended-resources.ts';
import { isIpLiteral } from './ip-address.ts';
import { Labels, Name } from './names.ts';
import { AssignedSecurity } from './security-context.ts';
import { AssignedVolume, AssignedVolumeMount } from './volumes.ts';

/**
 * The wire between the control plane and berth-agent (API.md "Agent protocol").
 * The agent imports these same schemas, so both ends agree by construction.
 */

/**
 * A first registration carries a join token; a node updating its labels or address registers
 * again with its own credential (`Authorization: Bearer <node token>`) and no join token.
 */
export const RegisterRequest = z.strictObject({
  joinToken: z.string().min(1).max(512).optional(),
  name: Name,
  labels: Labels.default({}),
  /** cpu in cores (fractions allowed), memory in bytes. */
  capacity: z.strictObject({ cpu: z.number().positive().max(4096), memoryBytes: z.int().positive() }),
  /** Where the control plane reaches the node's published ports: an IP literal, never a name. */
  address: z.string().refine(isIpLiteral, 'must be an IP address (IPv4 or IPv6), not a host name'),
  agentVersion: z.string().max(64).default('unknown'),
  /** Extended resources the node offers (`--extended-resource`), by name: whole counts. */
  extendedResources: z
    .record(
      z.string().refine(isExtendedResourceName, 'must be an extended resource name such as nvidia.com/gpu'),
      z
        .int()
        .min(0)
        .max(2 ** 31 - 1),
    )
    .optional(),
  /** Allocatable disk of the Docker data root, for ephemeral-storage requests. Absent: unknown (none). */
  ephemeralStorageBytes: z.int().min(0).optional(),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const RegisterResponse = z.object({
  nodeId: z.string(),
  nodeToken: z.string(),
  pollIntervalSeconds: z.number(),
});
export type RegisterResponse = z.infer<typeof RegisterResponse>;

/** A container as the agent must run it: secrets resolved, quantities in plain units. */
export const AssignedContainer = z.object({
  name: z.string(),
  image: z.string(),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  workingDir: z.string().optional(),
  env: z.array(z.object({ name: z.string(), value: z.string() })),
  ports: z.array(
    z.object({
      name: z.string().optional(),
      containerPort: z.int(),
      hostPort: z.int().optional(),
      protocol: z.enum(['TCP', 'UDP']),
    }),
  ),
  resources: z.object({
    cpuRequestMillis: z.int().optional(),
    memoryRequestBytes: z.int().optional(),
    cpuLimitMillis: z.int().optional(),
    memoryLimitBytes: z.int().optional(),
    /** Extended resources (nvidia.com/gpu: 2): the agent asks Docker for GPUs; others are counted only. */
    extended: z.record(z.string(), z.int()).optional(),
  }),
  readinessProbe: AssignedProbe.optional(),
  livenessProbe: AssignedProbe.optional(),
  startupProbe: AssignedProbe.optional(),
  lifecycle: AssignedLifecycle.optional(),
  /** The pod's and the container's securityContext merged; agents that predate it ignore it. */
  securityContext: AssignedSecurity.optional(),
  volumeMounts: z.array(AssignedVolumeMount).optional(),
});
export type AssignedContainer = z.infer<typeof AssignedContainer>;
/** An init container; `restartPolicy: Always` makes it a sidecar (runs for the pod's life). */
export const AssignedInitContainer = AssignedContainer.extend({
  restartPolicy: z.literal('Always').optional(),
});
export type AssignedInitContainer = z.infer<typeof AssignedInitContainer>;
export { ExecAction, HttpGetAction, TcpSocketAction };

export const ImagePullAuth = z.object({ server: z.string(), username: z.string(), password: z.string() });
export type ImagePullAuth = z.infer<typeof ImagePullAuth>;

export const Assignment = z.object({
  id: z.string(),
  namespace: z.string(),
  deployment: z.string(),
  revision: z.int(),
  desired: z.enum(['running', 'stopped']),
  containers: z.array(AssignedContainer),
  /** Run in order before `containers` (agent/init-containers.ts); agents that predate it ignore it. */
  initContainers: z.array(AssignedInitContainer).optional(),
  /** The pod's volumes, configMap and secret files resolved (common/volumes.ts); agents that predate it ignore it. */
  volumes: z.array(AssignedVolume).optional(),
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']),
  imagePullAuth: z.array(ImagePullAuth).optional(),
  terminationGracePeriodSeconds: z.int(),
  /** Seconds to keep serving after leaving the endpoint set, before SIGTERM. */
  drainDelaySeconds: z.int(),
  /**
   * Why the pod cannot be configured: a secret or key it names does not exist (`secret "db" not
   * found`). Its env then lacks those variables, so the agent creates none of its containers and
   * reports it Pending (`CreateContainerConfigError: ...`) until an assignment arrives without
   * this; containers that already run keep running. Agents that predate it ignore it.
   */
  configError: z.string().optional(),
});
export type Assignment = z.infer<typeof Assignment>;

export const LogRequest = z.object({
  id: z.string(),
  replicaId: z.string(),
  tail: z.int(),
  /** Only this container's lines, unprefixed (absent: every container's, prefixed when several). */
  container: z.string().optional(),
  /** Only lines stamped at or after this instant (`seconds.nanoseconds`, as the engine takes it). */
  since: z.string().optional(),
  /** Each line starts with its RFC 3339 timestamp and a space. Agents that predate these ignore them. */
  timestamps: z.boolean().optional(),
});
export type LogRequest = z.infer<typeof LogRequest>;

/**
 * A `kubectl exec` for one of the node's containers: the agent opens a WebSocket to
 * `/v1/agent/exec/{id}` with its credential, runs the command with the engine, and speaks
 * Kubernetes' exec stream on it (common/exec-stream.ts); the control plane pipes it to kubectl.
 */
export const ExecRequest = z.object({
  id: z.string(),
  replicaId: z.string(),
  container: z.string(),
  command: z.array(z.string()).min(1),
  tty: z.boolean(),
  stdin: z.boolean(),
});
export type ExecRequest = z.infer<typeof ExecRequest>;

/**
 * A `kubectl attach` to one of the node's containers: the agent opens a WebSocket to
 * `/v1/agent/exec/{id}` as for an exec and streams the container's own output on it (stdout and
 * stderr, from now on) until the container ends or kubectl leaves.
 */
export const AttachRequest = z.object({
  id: z.string(),
  replicaId: z.string(),
  container: z.string(),
});
export type AttachRequest = z.infer<typeof AttachRequest>;

/**
 * One connection of a `kubectl port-forward` to a pod on the node: the agent opens a WebSocket to
 * `/v1/agent/exec/{id}` (the same meeting point as exec) and connects it to the pod's `port` on
 * the pod's address. On the socket, binary messages framed as exec's (common/exec-stream.ts):
 * channel 0 the connection's bytes both ways, the close marker for channel 0 when a side has
 * finished sending, channel 1 a message when the connection could not be made or broke.
 */
export const PortForwardRequest = z.object({
  id: z.string(),
  replicaId: z.string(),
  port: z.number().int().min(1).max(65535),
});
export type PortForwardRequest = z.infer<typeof PortForwardRequest>;

/** A deleted claim whose node-local volume the agent must remove (common/persistent-volume-claim.ts). */
export const ReleasedClaim = z.object({
  uid: z.string(),
  namespace: z.string(),
  name: z.string(),
  /** The Docker volume's name. */
  volume: z.string(),
});
export type ReleasedClaim = z.infer<typeof ReleasedClaim>;

// ---- services inside the cluster (agent/services) ------------------------------------------

/** A service port as nodes route it; `nodePort` only for NodePort and LoadBalancer services. */
export const MapServicePort = z.object({
  name: z.string().optional(),
  protocol: z.enum(['TCP', 'UDP']),
  port: z.int(),
  nodePort: z.int().optional(),
});
export type MapServicePort = z.infer<typeof MapServicePort>;

/**
 * A ready replica behind a service: reached from any node at `address` (its node's address) on
 * the host port published for each service port. `hostPorts[i]` belongs to the service's
 * `ports[i]`; null where this replica does not publish that port (a rollout that dropped it).
 */
export const MapEndpoint = z.object({
  replica: z.string(),
  node: z.string(),
  address: z.string(),
  hostPorts: z.array(z.int().nullable()),
});
export type MapEndpoint = z.infer<typeof MapEndpoint>;

export const MapService = z.object({
  namespace: z.string(),
  name: z.string(),
  type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']),
  /** The service's virtual address; absent for a headless service and for ExternalName. */
  clusterIP: z.string().optional(),
  /** `clusterIP: None`: the name resolves to an address per ready endpoint. */
  headless: z.boolean().optional(),
  /** ExternalName: the name is a CNAME to this host. */
  externalName: z.string().optional(),
  /** sessionAffinity ClientIP: a client keeps its endpoint for this long after its last connection. */
  affinitySeconds: z.int().optional(),
  ports: z.array(MapServicePort),
  endpoints: z.array(MapEndpoint),
  /** Namespaces (besides its own) whose replicas may reach it; absent: every namespace. */
  reachableFrom: z.array(z.string()).optional(),
});
export type MapService = z.infer<typeof MapService>;

/**
 * One route of an ingress served on a node: a host (or `*.suffix`), a path (Prefix or Exact, as in
 * networking.k8s.io/v1 Ingress; a service's own hosts are `/` Prefix), to a service port.
 */
export const MapRoute = z.object({
  host: z.string(),
  path: z.string(),
  pathType: z.enum(['Prefix', 'Exact']),
  namespace: z.string(),
  service: z.string(),
  /** The service port's number. */
  port: z.int(),
});
export type MapRoute = z.infer<typeof MapRoute>;

/**
 * Every service a node routes, with its ready endpoints: the same for every node, and changed
 * whenever a service, an endpoint or a namespace's service policy changes. Nodes keep the last
 * one they received, so routing inside the cluster goes on while the control plane is away.
 */
export const ServiceMap = z.object({
  clusterDomain: z.string(),
  /** Where agents take node-local addresses for the endpoints of headless services. */
  endpointCidr: z.string(),
  services: z.array(MapService),
  routes: z.array(MapRoute).optional(),
});
export type ServiceMap = z.infer<typeof ServiceMap>;

export const AssignmentsResponse = z.object({
  replicas: z.array(Assignment),
  /**
   * Claims deleted with a volume on this node: the only word on which the agent removes a claim's
   * volume. Listed until the agent confirms (POST /v1/agent/released-claims); agents that predate
   * it ignore it.
   */
  releasedClaims: z.array(ReleasedClaim).optional(),
  logRequests: z.array(LogRequest),
  /** `kubectl exec` streams waiting for this node's agent; agents that predate it ignore it. */
  execRequests: z.array(ExecRequest).optional(),
  /** `kubectl attach` streams waiting for this node's agent; agents that predate it ignore it. */
  attachRequests: z.array(AttachRequest).optional(),
  /** `kubectl port-forward` connections waiting for this node's agent; agents that predate it ignore it. */
  portForwardRequests: z.array(PortForwardRequest).optional(),
  pollIntervalSeconds: z.number(),
  /** The cluster's services for the node's DNS and proxy; agents that predate it ignore it. */
  services: ServiceMap.optional(),
});
export type AssignmentsResponse = z.infer<typeof AssignmentsResponse>;

export const ReplicaPhase = z.enum([
  'Pending',
  'Scheduled',
  'Pulling',
  'Starting',
  'Running',
  'Terminating',
  'Succeeded',
  'Failed',
  'Lost',
]);
export type ReplicaPhase = z.infer<typeof ReplicaPhase>;

/**
 * What an agent may say of a replica: never Scheduled/Lost, which only the controller knows.
 * Pending only for a pod its assignment's `configError` keeps from being created (servers that
 * predate it never send one, so no agent says Pending to them).
 */
export const ObservedPhase = z.enum([
  'Pending',
  'Pulling',
  'Starting',
  'Running',
  'Terminating',
  'Succeeded',
  'Failed',
]);

export const HostPort = z.strictObject({
  containerPort: z.int().min(1).max(65535),
  hostPort: z.int().min(1).max(65535),
  /** Absent: TCP (agents that predate UDP services report TCP ports only). */
  protocol: z.literal('UDP').optional(),
});
export type HostPort = z.infer<typeof HostPort>;

export const ContainerStatus = z.strictObject({
  name: z.string().max(63),
  containerId: z.string().max(128).optional(),
  state: z.enum(['waiting', 'running', 'terminated']),
  reason: z.string().max(256).optional(),
  exitCode: z.int().optional(),
  restartCount: z.int().min(0),
  ready: z.boolean().optional(),
  hostPorts: z.array(HostPort).max(64).default([]),
});
export type ContainerStatus = z.infer<typeof ContainerStatus>;

export const ReplicaStatus = z.strictObject({
  id: z.string().max(128),
  phase: ObservedPhase,
  ready: z.boolean(),
  message: z.string().max(4096).optional(),
  containers: z.array(ContainerStatus).max(16).default([]),
  /** The pod's init containers and sidecars, in order (absent: it has none). */
  initContainers: z.array(ContainerStatus).max(16).optional(),
});
export type ReplicaStatus = z.infer<typeof ReplicaStatus>;

export const NodeResources = z.strictObject({
  cpu: z.number().min(0).max(4096),
  memoryBytes: z.int().min(0),
});

/**
 * What a sample measured over: when it was taken (the agent's clock, as the kubelet's stamps are
 * its own) and the seconds since the sample it was differenced with (CPU is a rate).
 */
const UsageWindow = {
  timestamp: z.iso.datetime(),
  windowSeconds: z.number().positive().max(3600),
};

/** CPU in billionths of a core averaged over the window; memory as the working set, in bytes. */
export const ContainerUsage = z.strictObject({
  name: z.string().max(63),
  cpuNanoCores: z.int().min(0),
  memoryBytes: z.int().min(0),
});
export type ContainerUsage = z.infer<typeof ContainerUsage>;

export const ReplicaUsage = z.strictObject({
  id: z.string().max(128),
  ...UsageWindow,
  containers: z.array(ContainerUsage).max(32),
});
export type ReplicaUsage = z.infer<typeof ReplicaUsage>;

export const NodeUsage = z.strictObject({
  ...UsageWindow,
  cpuNanoCores: z.int().min(0),
  memoryBytes: z.int().min(0),
});
export type NodeUsage = z.infer<typeof NodeUsage>;

/**
 * How often the server wants usage samples (`StatusReport.usage`), in seconds: a header of every
 * assignments answer, 304s included, so an agent resuming with a saved ETag learns it too. Absent:
 * a server that predates usage, which is sent none.
 */
export const USAGE_INTERVAL_HEADER = 'x-usage-interval';

/** The agent's latest usage sample (agent/usage-sampler.ts), served as metrics.k8s.io. */
export const UsageReport = z.strictObject({
  node: NodeUsage.optional(),
  /** Replicas whose running containers were all sampled; the node's others have no sample now. */
  replicas: z.array(ReplicaUsage).max(10000),
});
export type UsageReport = z.infer<typeof UsageReport>;

export const StatusReport = z.strictObject({
  /** Every replica the agent has containers for; an assigned replica that is absent has none yet. */
  replicas: z.array(ReplicaStatus).max(10000),
  capacity: NodeResources.optional(),
  allocatable: NodeResources.optional(),
  agentVersion: z.string().max(64).optional(),
  /**
   * Sent only to a server that asks for it (USAGE_INTERVAL_HEADER): a server that predates it
   * refuses unknown keys. Absent: the stored samples stay as they are.
   */
  usage: UsageReport.optional(),
});
export type StatusReport = z.infer<typeof StatusReport>;

/**
 * A host's certificate and key as a node's own ingress serves it over HTTPS: the pair ordered
 * through ACME, or an Ingress's `kubernetes.io/tls` Secret (which wins for its hosts).
 */
export const NodeCertificate = z.object({
  /** An exact host, or `*.suffix` for a wildcard certificate. */
  host: z.string(),
  certPem: z.string(),
  keyPem: z.string(),
});
export type NodeCertificate = z.infer<typeof NodeCertificate>;

/** `GET /v1/agent/certificates` (ETag; 304 when unchanged). */
export const NodeCertificates = z.object({
  certificates: z.array(NodeCertificate),
  /** `Strict-Transport-Security: max-age` on HTTPS answers for these hosts; absent: no HSTS. */
  hstsSeconds: z.int().min(0).optional(),
});
export type NodeCertificates = z.infer<typeof NodeCertificates>;

/** `GET /v1/agent/acme-challenges/{token}`: the HTTP-01 answer a node's ingress relays to the CA. */
export const AcmeChallengeAnswer = z.object({ keyAuthorization: z.string() });
export type AcmeChallengeAnswer = z.infer<typeof AcmeChallengeAnswer>;

/** The claims' volumes the agent removed (or found absent), by claim uid. */
export const ReleasedClaimsDone = z.strictObject({ uids: z.array(z.string().max(64)).max(1000) });
export type ReleasedClaimsDone = z.infer<typeof ReleasedClaimsDone>;

export const LogAnswer = z.strictObject({
  id: z.string().max(128),
  lines: z.array(z.string().max(65536)).max(10000).default([]),
  error: z.string().max(4096).optional(),
});
export type LogAnswer = z.infer<typeof LogAnswer>;
