import type { Container, PodTemplate as PodTemplateSchema } from '../../../common/deployment.ts';
import type { ReceivedProblem } from '../../../common/problem.ts';
import type * as wire from '../../../common/wire/index.ts';

/**
 * The shapes the dashboard reads from the JSON API: the contract's own types (common/wire),
 * held leniently so the page renders whatever the server sends and does not break when a field
 * is missing. Type imports only: this code runs in the browser as the source of its functions,
 * so nothing of common/ may be imported at run time.
 */
type Lenient<T> = wire.Lenient<T>;

export type Labels = Record<string, string>;
export type ObjectMeta = Lenient<wire.ObjectMeta>;
export type Condition = Lenient<wire.DeploymentCondition>;
export type ContainerSpec = Lenient<Container>;
export type PodTemplate = Lenient<PodTemplateSchema>;
export type DeploymentSpec = NonNullable<Deployment['spec']>;
export type DeploymentStatus = Lenient<wire.DeploymentStatus>;
export type Deployment = Lenient<wire.Deployment>;
export type Replica = Lenient<wire.Replica>;
export type ContainerStatus = NonNullable<Replica['containers']>[number];
export type Revision = Lenient<wire.Revision>;
/** `Event` and `Node` are the DOM's in a browser: these carry the API's. */
export type BerthEvent = Lenient<wire.Event>;
export type NodeInfo = Lenient<wire.Node>;
export type NamespacePolicy = Lenient<wire.NamespacePolicy>;
/** Values included: ConfigMaps are readable by viewers (secrets are never read back). */
export type ConfigMap = Lenient<wire.ConfigMap>;
export type Service = Lenient<wire.Service>;
export type Endpoint = Lenient<wire.Endpoint>;
export type Ingress = Lenient<wire.Ingress>;
export type PolicySpec = NonNullable<NamespacePolicy['spec']>;
export type Job = Lenient<wire.Job>;
export type JobSpec = NonNullable<Job['spec']>;
export type JobCondition = NonNullable<NonNullable<Job['status']>['conditions']>[number];
export type CronJob = Lenient<wire.CronJob>;
/** A host's ACME certificate at the control plane's ingress (`GET /v1/certificates`). */
export type Certificate = Lenient<wire.Certificate>;
/** The dashboard signs in people and pipelines: a node credential has no role there. */
export type Identity = Lenient<wire.UserIdentity>;

/** What the host-port formatter accepts: the contract's `[{containerPort, hostPort}]`, read defensively. */
export type HostPorts = unknown;

/** Node resources (`{cpu (cores), memoryBytes}`), read tolerantly (see format.ts). */
export type Resources = Record<string, unknown>;

/** An `application/problem+json` body; the client makes one up for network failures. */
export type Problem = ReceivedProblem & { title: string; status: number };

export type ApiResult<T> =
  | { ok: true; status: number; data: T; headers: Headers }
  | { ok: false; status: number; problem: Problem; headers?: Headers };

/**
 * A streamed read (a log follow): once the headers are in, the body is the caller's to read.
 * `timedOut`: no headers came within the API client's limit.
 */
export type StreamResult =
  | { ok: true; status: number; body: ReadableStream<Uint8Array>; headers: Headers }
  | { ok: false; status: number; problem: Problem; timedOut?: boolean };
