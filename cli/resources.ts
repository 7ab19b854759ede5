/**
 * The objects the CLI reads from the API (API.md), typed loosely on purpose: every field is
 * optional so an older or newer server never breaks a read-only command.
 */

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  createdAt?: string;
  updatedAt?: string;
}

export interface List<T> {
  items?: T[];
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number; hostPort?: number; protocol?: string }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  readinessProbe?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface PodTemplate {
  metadata?: { labels?: Labels };
  spec?: { containers?: ContainerSpec[]; nodeSelector?: Labels; [key: string]: unknown };
}

export interface Deployment {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    replicas?: number;
    paused?: boolean;
    autoRollback?: boolean;
    progressDeadlineSeconds?: number;
    minReadySeconds?: number;
    selector?: { matchLabels?: Labels };
    strategy?: {
      type?: string;
      rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
    };
    template?: PodTemplate;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    revision?: number;
    conditions?: Condition[];
  };
}

export interface HostPort {
  containerPort?: number;
  hostPort?: number;
}

export interface Replica {
  id?: string;
  deployment?: string;
  namespace?: string;
  revision?: number;
  node?: string | null;
  phase?: string;
  ready?: boolean;
  restartCount?: number;
  hostPorts?: HostPort[] | number[];
  message?: string | null;
  createdAt?: string;
}

export interface Revision {
  revision?: number;
  createdAt?: string;
  template?: PodTemplate;
  current?: boolean;
  [key: string]: unknown;
}

export interface BerthEvent {
  id?: number | string;
  type?: string;
  reason?: string;
  message?: string;
  object?: string;
  namespace?: string;
  count?: number;
  createdAt?: string;
}

export interface Service {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    selector?: Labels;
    ports?: { name?: string; port?: number; targetPort?: number | string; protocol?: string }[];
    hosts?: string[];
  };
}

export interface SecretInfo {
  metadata?: ObjectMeta;
  type?: string;
  /** Keys only: values never leave the server. */
  keys?: string[];
  data?: Record<string, unknown>;
}

export interface NodeInfo {
  name?: string;
  metadata?: ObjectMeta;
  status?: string | { phase?: string; [key: string]: unknown };
  lastHeartbeat?: string | null;
  capacity?: Record<string, unknown>;
  allocatable?: Record<string, unknown>;
  allocated?: Record<string, unknown>;
  labels?: Labels;
  address?: string;
  agentVersion?: string;
  unschedulable?: boolean;
  createdAt?: string;
}

/** One line of the `POST /v1/apply` answer. */
export interface ApplyResult {
  kind: string;
  namespace?: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged' | string;
}
