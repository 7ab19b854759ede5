/**
 * The shapes the dashboard reads from the JSON API (API.md). Everything is optional on purpose:
 * the page renders whatever the server sends and must not break when a field is missing or the
 * server is a newer version with more fields.
 */

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Labels;
  resourceVersion?: string;
  generation?: number;
  createdAt?: string;
  updatedAt?: string;
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ContainerSpec {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort?: number; hostPort?: number; protocol?: string }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
}

export interface PodTemplate {
  metadata?: { labels?: Labels };
  spec?: { containers?: ContainerSpec[]; nodeSelector?: Labels; restartPolicy?: string };
}

export interface DeploymentSpec {
  replicas?: number;
  paused?: boolean;
  autoRollback?: boolean;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  strategy?: {
    type?: string;
    rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
  };
  template?: PodTemplate;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  revision?: number;
  conditions?: Condition[];
}

export interface Deployment {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: DeploymentSpec;
  status?: DeploymentStatus;
}

/** API.md says `hostPorts`; agents report `[{containerPort, hostPort}]`, older shapes were plain numbers. */
export type HostPorts = unknown;

export interface Replica {
  id?: string;
  revision?: number;
  node?: string | null;
  phase?: string;
  ready?: boolean;
  restartCount?: number;
  hostPorts?: HostPorts;
  message?: string | null;
  createdAt?: string;
}

export interface Revision {
  revision?: number;
  createdAt?: string;
  template?: PodTemplate;
  current?: boolean;
}

export interface BerthEvent {
  type?: string;
  reason?: string;
  message?: string;
  object?: string | { kind?: string; name?: string; namespace?: string };
  count?: number;
  createdAt?: string;
  lastTimestamp?: string;
}

/** Node resources: `{cpu (cores), memoryBytes}` per API.md, read tolerantly (see format.ts). */
export type Resources = Record<string, unknown>;

export interface NodeInfo {
  name?: string;
  status?: string;
  lastHeartbeat?: string | null;
  capacity?: Resources;
  allocatable?: Resources;
  allocated?: Resources;
  labels?: Labels;
  address?: string;
  agentVersion?: string;
  unschedulable?: boolean;
  createdAt?: string;
}

/** `GET /v1/whoami`. `namespaces` is `["*"]` for a token that may use every namespace. */
export interface Identity {
  name?: string;
  role?: string;
  namespaces?: string[];
}

/** An `application/problem+json` body (RFC 9457) as API.md defines it. */
export interface Problem {
  title: string;
  status: number;
  detail?: string;
  code?: string;
  requestId?: string;
  errors?: { path?: string; message?: string }[];
}

export type ApiResult<T> =
  | { ok: true; status: number; data: T; headers: Headers }
  | { ok: false; status: number; problem: Problem; headers?: Headers };
