import type { ManifestObject } from '../../common/manifest.ts';
import type { Database } from '../../db/database.ts';
import { authorize } from '../auth/authorize.ts';
import type { Principal } from '../auth/principal.ts';
import { applyDeployment } from './deployments.ts';
import { applySecret } from './secrets.ts';
import { applyService } from './services.ts';

export interface AppliedObject {
  kind: ManifestObject['kind'];
  namespace: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged';
}

const RESOURCE = { Deployment: 'deployments', Service: 'services', Secret: 'secrets' } as const;

class DryRun extends Error {}

/**
 * Apply a set of manifests all or nothing: one transaction, so any rejected document (a
 * conflict, a host another service holds) leaves every other document unapplied too.
 * Permissions are checked for every document before anything is written.
 */
export async function applyManifests(
  db: Database,
  args: {
    objects: ManifestObject[];
    defaultNamespace: string;
    principal: Principal;
    secretKey: string | undefined;
    now: Date;
    dryRun?: boolean;
    /** The host the API was reached by: no service may claim it (it would cut the API off). */
    reservedHost?: string;
  },
): Promise<{ items: AppliedObject[]; changedDeployments: string[] }> {
  const targets = args.objects.map((o) => ({ object: o, namespace: o.namespace ?? args.defaultNamespace }));
  for (const { object, namespace } of targets)
    authorize(args.principal, 'write', RESOURCE[object.kind], namespace);
  const items: AppliedObject[] = [];
  const changedDeployments: string[] = [];
  try {
    await db.transaction(async (tx) => {
      for (const { object: o, namespace } of targets) {
        const metadata = {
          labels: o.labels,
          ...('resourceVersion' in o && o.resourceVersion ? { resourceVersion: o.resourceVersion } : {}),
        };
        let result: { created: boolean; changed: boolean };
        if (o.kind === 'Deployment') {
          const r = await applyDeployment(tx, {
            namespace,
            name: o.name,
            input: { metadata, spec: o.spec },
            now: args.now,
          });
          if (r.changed) changedDeployments.push(r.row.id);
          result = r;
        } else if (o.kind === 'Service') {
          result = await applyService(tx, {
            namespace,
            name: o.name,
            input: { metadata, spec: o.spec },
            now: args.now,
          });
        } else {
          result = await applySecret(tx, args.secretKey, {
            namespace,
            name: o.name,
            input: { metadata, type: o.type, data: o.data },
            now: args.now,
          });
        }
        items.push({
          kind: o.kind,
          namespace,
          name: o.name,
          action: result.created ? 'created' : result.changed ? 'configured' : 'unchanged',
        });
      }
      if (args.dryRun) throw new DryRun();
    });
  } catch (e) {
    if (!(e instanceof DryRun)) throw e;
    return { items, changedDeployments: [] };
  }
  return { items, changedDeployments };
}
