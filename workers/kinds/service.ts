import { and, sql } from 'drizzle-orm';
import { apiHostClaimedBy, withinSuffix } from '../../common/host-patterns.ts';
import type { NamespacePolicySpec } from '../../common/policy.ts';
import { hasNodePorts, type ServiceSpec, serviceType } from '../../common/service.ts';
import type { Database } from '../../db/database.ts';
import { services } from '../../db/schema/index.ts';
import { conflict, type FieldError, invalid } from '../errors.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';
import { loadPolicy } from '../store/policies.ts';
import { ingressConflictsOfService } from './host-claims.ts';
import { unservedSecretCertificate } from './secret-certificates.ts';
import { DEFAULT_SERVICE_ADDRESSES } from './service-addresses.ts';
import {
  assignAddresses,
  clusterIpColumn,
  keepAssigned,
  lacksAssigned,
  syncNodePorts,
} from './service-allocations.ts';

export type ServiceRow = typeof services.$inferSelect;

/** Arbitrary constant: applies that claim hostnames take turns, so two services never win one host. */
export const HOSTS_LOCK = 727_274_007;

/** Services in the object store; `hosts` is kept beside the spec, indexed for the ingress. */
export const serviceKind: ObjectKind<ServiceRow, ServiceSpec> = {
  noun: 'service',
  table: services,
  generation: true,
  stateOf: (row) => ({ spec: row.spec as ServiceSpec, labels: row.labels, annotations: row.annotations }),
  columns: (next) => ({ spec: next.spec, hosts: next.spec.hosts, clusterIp: clusterIpColumn(next.spec) }),
  prepare: keepAssigned,
  incomplete: lacksAssigned,
  admit: async (tx, next, write) => {
    if (!write.specChanged) return;
    const policy = write.admission.admin ? undefined : await loadPolicy(tx, write.namespace);
    const refused = refusedHosts(next.spec.hosts, write.admission.apiHosts, policy, write.namespace);
    const unserved =
      next.spec.tlsSecretName !== undefined
        ? await unservedSecretCertificate(tx, write.admission.hostCertificates === true, 'spec.tlsSecretName')
        : undefined;
    if (unserved) refused.push(unserved);
    if (refused.length) throw invalid(refused);
    await claimHosts(tx, write.namespace, write.name, next.spec.hosts);
    const spec = policy && !policy.allowNodePorts ? withoutNodePorts(next.spec, write.namespace) : next.spec;
    const existing = write.existing && { id: write.existing.id, spec: write.existing.spec as ServiceSpec };
    const config = write.admission.serviceAddresses ?? DEFAULT_SERVICE_ADDRESSES;
    return { ...next, spec: await assignAddresses(tx, spec, existing, config) };
  },
  afterWrite: (tx, row, next) => syncNodePorts(tx, row.id, next.spec),
};

/**
 * Hosts a service may not claim. Nobody takes the API's own host names (configuration, never a
 * request's Host header): the ingress runs before authentication, so such a claim would carry
 * the API's, the dashboard's and the agents' traffic, tokens included, to a tenant's container.
 * A deployer (`policy` given) claims only names within its namespace's allowed suffixes, and
 * wildcards only where the policy allows them.
 */
export function refusedHosts(
  hosts: readonly string[],
  apiHosts: readonly string[],
  policy: NamespacePolicySpec | undefined,
  namespace: string,
): FieldError[] {
  const errors: FieldError[] = [];
  hosts.forEach((host, i) => {
    const path = `spec.hosts[${i}]`;
    const api = apiHostClaimedBy(host, apiHosts);
    if (api) {
      errors.push({
        path,
        message: `"${host}" would take the API's own host name (${api}); the API's hosts are never routed to a service`,
      });
      return;
    }
    if (!policy) return;
    if (host.startsWith('*.') && !policy.allowWildcardHosts) {
      errors.push({
        path,
        message: `wildcard hosts are not allowed in namespace "${namespace}" (its namespace policy: allowWildcardHosts)`,
      });
      return;
    }
    if (!policy.allowedHostSuffixes.some((suffix) => withinSuffix(host, suffix))) {
      const allowed = policy.allowedHostSuffixes.length
        ? `only names within ${policy.allowedHostSuffixes.join(', ')}`
        : 'no host names (an admin sets allowedHostSuffixes)';
      errors.push({
        path,
        message: `"${host}" is not allowed in namespace "${namespace}": its namespace policy allows ${allowed}`,
      });
    }
  });
  return errors;
}

/**
 * A hostname belongs to one service at a time, across namespaces: claiming one that another
 * service holds is a 409. Runs under a transaction lock so the check holds until commit.
 */
async function claimHosts(tx: Database, namespace: string, name: string, hosts: string[]): Promise<void> {
  if (hosts.length === 0) return;
  await tx.execute(sql`select pg_advisory_xact_lock(${HOSTS_LOCK})`);
  const others = await tx
    .select({ namespace: services.namespace, name: services.name, hosts: services.hosts })
    .from(services)
    .where(
      and(
        sql`${services.hosts} ?| array(select jsonb_array_elements_text(${JSON.stringify(hosts)}::jsonb))`,
        sql`not (${services.namespace} = ${namespace} and ${services.name} = ${name})`,
      ),
    );
  const byIngress = await ingressConflictsOfService(tx, namespace, hosts);
  if (others.length === 0 && byIngress.size === 0) return;
  const errors: FieldError[] = [];
  hosts.forEach((h, i) => {
    const ingress = byIngress.get(h);
    if (ingress) errors.push({ path: `spec.hosts[${i}]`, message: ingress });
    const holder = others.find((o) => o.hosts.includes(h));
    if (!holder) return;
    // Another namespace's services are none of this caller's business: not even their names.
    const who =
      holder.namespace === namespace
        ? `service "${holder.namespace}/${holder.name}"`
        : 'a service in another namespace';
    errors.push({ path: `spec.hosts[${i}]`, message: `host "${h}" is already used by ${who}` });
  });
  throw conflict(errors[0]!.message, errors);
}

export function toServiceObject(row: ServiceRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Service' as const,
    metadata: objectMetadata(row),
    spec: row.spec as ServiceSpec,
  };
}
export type ServiceObject = ReturnType<typeof toServiceObject>;

/**
 * A deployer's service where the namespace policy gives no node ports (they listen on every
 * node): a NodePort service is refused; a LoadBalancer gets none (Kubernetes'
 * allocateLoadBalancerNodePorts: false), as LoadBalancers were served before node ports existed.
 */
export function withoutNodePorts(spec: ServiceSpec, namespace: string): ServiceSpec {
  if (!hasNodePorts(spec)) return spec;
  const refusal = `node ports (which listen on every node) are not allowed in namespace "${namespace}" (its namespace policy: allowNodePorts)`;
  if (serviceType(spec) === 'NodePort')
    throw invalid([{ path: 'spec.type', message: `type NodePort: ${refusal}` }]);
  const given = spec.ports.findIndex((p) => p.nodePort !== undefined);
  if (given >= 0) throw invalid([{ path: `spec.ports[${given}].nodePort`, message: refusal }]);
  return { ...spec, allocateLoadBalancerNodePorts: false };
}
