import type { Container as ContainerSchema, PodTemplate as PodTemplateSchema } from '../common/deployment.ts';
import type * as wire from '../common/wire/index.ts';

/**
 * The objects the CLI and the Action read from the API: the contract's own types (common/wire),
 * held leniently so an older or newer server never breaks a read-only command.
 */
type Lenient<T> = wire.Lenient<T>;

export type Labels = Record<string, string>;
export type ObjectMeta = Lenient<wire.ObjectMeta>;
export type List<T> = { items?: T[] };

export type Deployment = Lenient<wire.Deployment>;
export type DeploymentCondition = Lenient<wire.DeploymentCondition>;
export type PodTemplate = Lenient<PodTemplateSchema>;
export type Container = Lenient<ContainerSchema>;
export type Revision = Lenient<wire.Revision>;
export type Replica = Lenient<wire.Replica>;
export type HostPort = Lenient<wire.Replica['hostPorts'][number]>;
export type Event = Lenient<wire.Event>;
export type Service = Lenient<wire.Service>;
export type EndpointList = Lenient<wire.EndpointList>;
export type Endpoint = Lenient<wire.Endpoint>;
export type Secret = Lenient<wire.Secret>;
export type ConfigMap = Lenient<wire.ConfigMap>;
export type PersistentVolumeClaim = Lenient<wire.PersistentVolumeClaim>;
export type ServiceAccount = Lenient<wire.ServiceAccount>;
export type Ingress = Lenient<wire.Ingress>;
export type Job = Lenient<wire.Job>;
export type CronJob = Lenient<wire.CronJob>;
export type JobCondition = Lenient<wire.Job['status']['conditions'][number]>;
export type Node = Lenient<wire.Node>;
export type Token = Lenient<wire.Token>;
export type NamespacePolicy = Lenient<wire.NamespacePolicy>;
export type NamespacePolicySpec = NonNullable<NamespacePolicy['spec']>;
export type TrustRule = Lenient<wire.TrustRule>;
/** What the apply just did (and warns of): read as sent, since the command acts on every line of it. */
/** The answers that carry a secret, read as sent: the command prints that secret. */
export type {
  AppliedObject,
  ApplyWarning,
  CreatedJoinToken,
  CreatedToken,
  ExchangedToken,
} from '../common/wire/index.ts';
