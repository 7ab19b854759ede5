import type { IngressInput } from '../../common/ingress.ts';
import type { Database } from '../../db/database.ts';
import { type IngressRow, ingressKind } from '../kinds/ingress.ts';
import {
  applyObject,
  deleteObject,
  getObject,
  listObjects,
  type WriteOptions,
  type Written,
} from '../store/objects.ts';

export { type IngressObject, type IngressRow, toIngressObject } from '../kinds/ingress.ts';

/**
 * Create or replace an Ingress. Its hosts are claimed as a service's are (kinds/ingress.ts): never
 * the API's, a deployer's only within its namespace policy, one namespace per host.
 */
export function applyIngress(
  db: Database,
  args: { namespace: string; name: string; input: IngressInput },
  write: WriteOptions,
): Promise<Written<IngressRow>> {
  const { input } = args;
  return applyObject(
    db,
    ingressKind,
    {
      ...write,
      namespace: args.namespace,
      name: args.name,
      metadata: input.metadata,
      resourceVersion: input.metadata.resourceVersion,
    },
    { spec: input.spec, labels: input.metadata.labels ?? {}, annotations: input.metadata.annotations ?? {} },
  );
}

export const getIngress = (db: Database, namespace: string, name: string) =>
  getObject(db, ingressKind, namespace, name);

export const listIngresses = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, ingressKind, namespace, labelSelector);

export const deleteIngress = (db: Database, namespace: string, name: string) =>
  deleteObject(db, ingressKind, namespace, name);
