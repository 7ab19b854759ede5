import { z } from 'zod';
import { ObjectMetaInput } from './deployment.ts';
import { isIpLiteral } from './host-patterns.ts';
import { parseIp } from './ip-address.ts';
import { Labels, Name } from './names.ts';

/**
 * The Service as users write it (berth.dev/v1): which replicas (selector), which ports, and the
 * hostnames the control plane's ingress routes to them. Strict like the Deployment schemas.
 */

const Port = z.int().min(1).max(65535);

/** Kubernetes' IANA_SVC_NAME: what a named port (and a targetPort by name) may be called. */
export const PortName = z
  .string()
  .max(15, 'must be at most 15 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and "-"')
  .regex(/[a-z]/, 'must contain at least one letter');

const HOSTNAME = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A hostname the ingress matches against the Host header; `*.example.com` matches one label. */
export const Hostname = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(HOSTNAME, 'must be a lowercase hostname such as web.example.com, optionally starting with "*."')
  .refine(
    (h) => h.split('.').every((label) => label.length <= 63),
    'each label must be at most 63 characters',
  )
  // As in Kubernetes Ingress: an address would take every request made to the machine by address.
  .refine((h) => !isIpLiteral(h), 'must be a DNS name, not an IP address');
export type Hostname = z.infer<typeof Hostname>;

/**
 * Kubernetes' rule for a SERVICE port's name: a DNS label (up to 63 characters, `80-8080` as
 * `kubectl create service` writes it), looser than the 15-character IANA rule of container ports.
 */
export const ServicePortName = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lowercase letters, digits and "-"');

export const ServiceType = z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], {
  error: 'must be ClusterIP, NodePort, LoadBalancer or ExternalName',
});
export type ServiceType = z.infer<typeof ServiceType>;

/** `clusterIP: None`: a headless service, whose name resolves to its ready endpoints. */
export const HEADLESS = 'None';

/** Kubernetes' default for sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10_800;

/** targetPort defaults to port, as in Kubernetes, so the stored spec always names both. */
export const ServicePort = z
  .strictObject({
    name: ServicePortName.optional(),
    port: Port,
    targetPort: z.union([Port, PortName]).optional(),
    protocol: z.enum(['TCP', 'UDP'], 'must be TCP or UDP (SCTP is not supported)').default('TCP'),
    /** The port every node listens on (NodePort and LoadBalancer); assigned when absent. */
    nodePort: Port.optional(),
  })
  .transform((p) => ({ ...p, targetPort: p.targetPort ?? p.port }));
export type ServicePort = z.infer<typeof ServicePort>;

/** An IPv4 address (Berth's services are IPv4 only) or `None`; the range is checked when stored. */
const ClusterIP = z
  .string()
  .refine(
    (ip) => ip === HEADLESS || parseIp(ip)?.version === 4,
    'must be an IPv4 address, or None for a headless service',
  );

const EXTERNAL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?\.?$/;

/** ExternalName: the DNS name (a CNAME target) the service's name stands for. */
export const ExternalName = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(EXTERNAL_NAME, 'must be a lowercase DNS name such as db.example.com')
  .refine(
    (h) => h.split('.').every((label) => label.length <= 63),
    'each label must be at most 63 characters',
  )
  .refine((h) => !isIpLiteral(h), 'must be a DNS name, not an IP address');

const ServiceSpecFields = z.strictObject({
  /** Absent is ClusterIP (services stored before types were accepted have none). */
  type: ServiceType.optional(),
  /** Assigned from the service range when absent; kept afterwards (see workers/kinds/service.ts). */
  clusterIP: ClusterIP.optional(),
  externalName: ExternalName.optional(),
  selector: Labels.optional(),
  ports: z.array(ServicePort).max(64).default([]),
  hosts: z.array(Hostname).max(64).default([]),
  /**
   * A kubernetes.io/tls Secret of the service's namespace served for its hosts (wildcards
   * included) instead of an ACME certificate: Berth's counterpart of an Ingress's `tls`.
   */
  tlsSecretName: Name.optional(),
  sessionAffinity: z.enum(['None', 'ClientIP'], 'must be None or ClientIP').optional(),
  /** LoadBalancer only: false gives it no node ports (its hosts at the ingress alone). Absent: true. */
  allocateLoadBalancerNodePorts: z.boolean().optional(),
  sessionAffinityConfig: z
    .strictObject({
      clientIP: z.strictObject({ timeoutSeconds: z.int().min(1).max(86_400).optional() }).optional(),
    })
    .optional(),
});

export const ServiceSpec = ServiceSpecFields.check((ctx) => {
  for (const { path, message } of serviceSpecIssues(ctx.value))
    ctx.issues.push({ code: 'custom', input: ctx.value, path, message });
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

type Issue = { path: (string | number)[]; message: string };

/** The rules between fields, as Kubernetes' Service validation has them (paths relative to spec). */
function serviceSpecIssues(spec: z.infer<typeof ServiceSpecFields>): Issue[] {
  const issues: Issue[] = [];
  const type = spec.type ?? 'ClusterIP';
  const external = type === 'ExternalName';
  if (external) {
    if (spec.externalName === undefined)
      issues.push({ path: ['externalName'], message: 'is required for type ExternalName' });
    if (spec.clusterIP !== undefined)
      issues.push({ path: ['clusterIP'], message: 'must not be set for type ExternalName' });
    if (spec.selector !== undefined)
      issues.push({
        path: ['selector'],
        message: 'must not be set for type ExternalName: it selects no replicas',
      });
    if (spec.hosts.length)
      issues.push({ path: ['hosts'], message: 'must be empty for type ExternalName: it has no endpoints' });
    if (spec.sessionAffinity === 'ClientIP')
      issues.push({ path: ['sessionAffinity'], message: 'must be None for type ExternalName' });
  } else {
    if (spec.externalName !== undefined)
      issues.push({ path: ['externalName'], message: 'may only be set for type ExternalName' });
    if (spec.selector === undefined)
      issues.push({ path: ['selector'], message: 'is required: the labels of the replicas it routes to' });
    else if (Object.keys(spec.selector).length === 0)
      issues.push({ path: ['selector'], message: 'must select at least one label' });
    if (spec.ports.length === 0) issues.push({ path: ['ports'], message: 'must list at least one port' });
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== 'LoadBalancer')
    issues.push({
      path: ['allocateLoadBalancerNodePorts'],
      message: 'may only be set for type LoadBalancer',
    });
  const nodePorts =
    type === 'NodePort' || (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
  if (nodePorts && spec.clusterIP === HEADLESS)
    issues.push({ path: ['clusterIP'], message: `may not be None for type ${type}` });
  if (spec.sessionAffinityConfig !== undefined && spec.sessionAffinity !== 'ClientIP')
    issues.push({
      path: ['sessionAffinityConfig'],
      message: 'may only be set with sessionAffinity ClientIP',
    });

  const seen = { pair: new Set<string>(), name: new Set<string>(), nodePort: new Set<string>() };
  spec.ports.forEach((p, i) => {
    const pair = `${p.port}/${p.protocol}`;
    if (seen.pair.has(pair))
      issues.push({
        path: ['ports', i, 'port'],
        message: `duplicate port ${p.port} with protocol ${p.protocol}`,
      });
    seen.pair.add(pair);
    if (p.name === undefined) {
      if (spec.ports.length > 1)
        issues.push({ path: ['ports', i, 'name'], message: 'is required when a service has several ports' });
    } else {
      if (seen.name.has(p.name))
        issues.push({ path: ['ports', i, 'name'], message: `duplicate port name ${JSON.stringify(p.name)}` });
      seen.name.add(p.name);
    }
    if (p.nodePort !== undefined) {
      if (!nodePorts)
        issues.push({
          path: ['ports', i, 'nodePort'],
          message:
            type === 'LoadBalancer'
              ? 'may not be set with allocateLoadBalancerNodePorts false'
              : `may not be set for type ${type}: only NodePort and LoadBalancer services have node ports`,
        });
      const key = `${p.nodePort}/${p.protocol}`;
      if (seen.nodePort.has(key))
        issues.push({ path: ['ports', i, 'nodePort'], message: `duplicate nodePort ${p.nodePort}` });
      seen.nodePort.add(key);
    }
  });
  // The ingress speaks HTTP, over TCP.
  if (spec.tlsSecretName !== undefined && !spec.hosts.length)
    issues.push({
      path: ['tlsSecretName'],
      message: "needs hosts: the Secret is served for the service's hosts",
    });
  if (spec.hosts.length && spec.ports.length && !spec.ports.some((p) => p.protocol === 'TCP'))
    issues.push({ path: ['hosts'], message: 'need a TCP port: the ingress sends HTTP to the service' });
  const hosts = new Set<string>();
  spec.hosts.forEach((h, i) => {
    if (hosts.has(h)) issues.push({ path: ['hosts', i], message: `duplicate host ${JSON.stringify(h)}` });
    hosts.add(h);
  });
  return issues;
}

/** The type a stored spec means (absent: ClusterIP). */
export const serviceType = (spec: Pick<ServiceSpec, 'type'>): ServiceType => spec.type ?? 'ClusterIP';

/** Whether the service gets a virtual address: every type but ExternalName, unless headless. */
export const hasClusterIP = (spec: Pick<ServiceSpec, 'type' | 'clusterIP'>) =>
  serviceType(spec) !== 'ExternalName' && spec.clusterIP !== HEADLESS;

/** Whether each port is also served on every node. */
export const hasNodePorts = (spec: Pick<ServiceSpec, 'type' | 'allocateLoadBalancerNodePorts'>) =>
  serviceType(spec) === 'NodePort' ||
  (serviceType(spec) === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);

/** ClientIP affinity's timeout in seconds; undefined without affinity. */
export function affinitySeconds(spec: Pick<ServiceSpec, 'sessionAffinity' | 'sessionAffinityConfig'>) {
  if (spec.sessionAffinity !== 'ClientIP') return undefined;
  return spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS;
}

export const ServiceInput = z.strictObject({
  apiVersion: z.literal('berth.dev/v1').optional(),
  kind: z.literal('Service').optional(),
  metadata: ObjectMetaInput.default({}),
  spec: ServiceSpec,
  status: z.unknown().optional(),
});
export type ServiceInput = z.infer<typeof ServiceInput>;
