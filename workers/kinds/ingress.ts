import { sql } from 'drizzle-orm';
import { type IngressSpec, ingressHosts, matchType } from '../../common/ingress.ts';
import { ingresses } from '../../db/schema/index.ts';
import { conflict, type FieldError, invalid } from '../errors.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';
import { loadPolicy } from '../store/policies.ts';
import { ingressesHolding, servicesHolding } from './host-claims.ts';
import { unservedSecretCertificate } from './secret-certificates.ts';
import { HOSTS_LOCK, refusedHosts } from './service.ts';

export type IngressRow = typeof ingresses.$inferSelect;

/**
 * Ingresses in the object store. Their hosts go through a Service's guards (never the API's
 * hosts; a deployer only within its namespace policy), and a host belongs to one namespace at a
 * time across services and ingresses; within a namespace, ingresses share a host by path, and
 * the same host, path and path type routed twice is a 409.
 */
export const ingressKind: ObjectKind<IngressRow, IngressSpec> = {
  noun: 'ingress',
  table: ingresses,
  generation: true,
  stateOf: (row) => ({ spec: row.spec as IngressSpec, labels: row.labels, annotations: row.annotations }),
  columns: (next) => ({ spec: next.spec, hosts: ingressHosts(next.spec) }),
  admit: async (tx, next, write) => {
    if (!write.specChanged) return;
    const policy = write.admission.admin ? undefined : await loadPolicy(tx, write.namespace);
    const refused: FieldError[] = [];
    next.spec.rules.forEach((rule, i) => {
      if (rule.host === undefined) return;
      for (const e of refusedHosts([rule.host], write.admission.apiHosts, policy, write.namespace))
        refused.push({ ...e, path: `spec.rules[${i}].host` });
    });
    const unserved = next.spec.tls?.length
      ? await unservedSecretCertificate(tx, write.admission.hostCertificates === true, 'spec.tls')
      : undefined;
    if (unserved) refused.push(unserved);
    if (refused.length) throw invalid(refused);
    await tx.execute(sql`select pg_advisory_xact_lock(${HOSTS_LOCK})`);
    const errors = await hostConflicts(tx, write.namespace, write.name, next.spec);
    if (errors.length) throw conflict(errors[0]!.message, errors);
  },
};

async function hostConflicts(
  tx: Parameters<NonNullable<typeof ingressKind.admit>>[0],
  namespace: string,
  name: string,
  spec: IngressSpec,
): Promise<FieldError[]> {
  const hosts = ingressHosts(spec);
  const holders = [
    ...(await servicesHolding(tx, hosts)),
    ...(await ingressesHolding(tx, hosts, { namespace, name })),
  ];
  if (holders.length === 0) return [];
  const errors: FieldError[] = [];
  spec.rules.forEach((rule, i) => {
    const host = rule.host;
    if (host === undefined) return;
    const holding = holders.filter((h) => h.hosts.includes(host));
    // Another namespace's objects are none of this caller's business: not even their names.
    if (holding.some((h) => h.namespace !== namespace)) {
      errors.push({
        path: `spec.rules[${i}].host`,
        message: `host "${host}" is already used by another namespace`,
      });
      return;
    }
    rule.http.paths.forEach((p, j) => {
      const type = matchType(p.pathType);
      const taken = holding.find((h) =>
        h.kind === 'service'
          ? p.path === '/' && type === 'Prefix'
          : h.spec?.rules.some(
              (r) =>
                r.host === host &&
                r.http.paths.some((q) => q.path === p.path && matchType(q.pathType) === type),
            ),
      );
      if (taken)
        errors.push({
          path: `spec.rules[${i}].http.paths[${j}].path`,
          message: `host "${host}" path "${p.path}" (${type}) is already routed by ${taken.kind} "${namespace}/${taken.name}"`,
        });
    });
  });
  return errors;
}

export function toIngressObject(row: IngressRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Ingress' as const,
    metadata: objectMetadata(row),
    spec: row.spec as IngressSpec,
  };
}
export type IngressObject = ReturnType<typeof toIngressObject>;
