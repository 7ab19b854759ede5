import { and, eq, inArray } from 'drizzle-orm';
import { encodeBase64Text } from '../../common/base64.ts';
import type { PodSpec } from '../../common/deployment.ts';
import { normalizeHostPath } from '../../common/host-path.ts';
import {
  type AssignedVolume,
  type AssignedVolumeFile,
  type AssignedVolumeMount,
  DEFAULT_VOLUME_FILE_MODE,
  sizeLimitBytes,
  type VolumeMount,
} from '../../common/volumes.ts';
import type { Database } from '../../db/database.ts';
import { configMaps } from '../../db/schema/index.ts';

/**
 * A pod's volumes as its agent must make them, resolved from what the control plane holds, as the
 * kubelet resolves them: a configMap or secret volume is the object's keys (or its `items`) as
 * files with their modes and bytes. A volume's files follow the object as it is now (a running
 * replica's files change with it, unlike its env), so they are resolved on every build of the
 * assignment. Pure but for reading ConfigMaps (secrets are read with the env's).
 */

type PodVolumesSpec = Pick<PodSpec, 'volumes'>;

/** The secrets, ConfigMaps and claims the pod's volumes name, each once. */
export function volumeObjectNames(spec: PodVolumesSpec): {
  secrets: string[];
  configMaps: string[];
  claims: string[];
} {
  const secrets = new Set<string>();
  const maps = new Set<string>();
  const claims = new Set<string>();
  for (const v of spec.volumes ?? []) {
    if (v.secret) secrets.add(v.secret.secretName);
    if (v.configMap) maps.add(v.configMap.name);
    if (v.persistentVolumeClaim) claims.add(v.persistentVolumeClaim.claimName);
  }
  return { secrets: [...secrets], configMaps: [...maps], claims: [...claims] };
}

/** A claim bound to the replica's node, as its volume names it (verbs/persistent-volume-claims.ts). */
export interface VolumeClaim {
  uid: string;
  namespace: string;
}

/** A ConfigMap's files: `data` as UTF-8, `binaryData` as written (base64). */
export interface VolumeConfigMap {
  data: Record<string, string>;
  binaryData: Record<string, string>;
}

/** The ConfigMaps of `namespace` named, with their binaryData (env reads only `data`). */
export async function resolveVolumeConfigMaps(
  db: Database,
  namespace: string,
  names: string[],
): Promise<Map<string, VolumeConfigMap>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .select({ name: configMaps.name, data: configMaps.data, binaryData: configMaps.binaryData })
    .from(configMaps)
    .where(and(eq(configMaps.namespace, namespace), inArray(configMaps.name, names)));
  return new Map(rows.map((r) => [r.name, { data: r.data, binaryData: r.binaryData }]));
}

export interface ResolvedVolumes {
  volumes: AssignedVolume[];
  /** Why the pod cannot be configured (`configmap "web" not found`), in volume order, each once. */
  missing: string[];
}

/**
 * Every volume of the pod with its files. A ConfigMap, Secret or item key that does not exist is
 * a reason the pod cannot start, unless the volume is `optional` (then the volume holds what
 * exists: nothing, or the items whose keys exist), as in Kubernetes.
 */
export function resolvePodVolumes(
  spec: PodVolumesSpec,
  secrets: ReadonlyMap<string, { data: Record<string, string> }>,
  maps: ReadonlyMap<string, VolumeConfigMap>,
  claims: ReadonlyMap<string, VolumeClaim> = new Map(),
): ResolvedVolumes {
  const missing = new Set<string>();
  const resolved = (spec.volumes ?? []).map((v): AssignedVolume | undefined => {
    if (v.persistentVolumeClaim) {
      const { claimName, readOnly } = v.persistentVolumeClaim;
      const claim = claims.get(claimName);
      // Placed only where the claim is bound; one not bound here was deleted meanwhile.
      if (!claim) {
        missing.add(`persistentvolumeclaim "${claimName}" not found`);
        return undefined;
      }
      return {
        name: v.name,
        persistentVolumeClaim: {
          uid: claim.uid,
          namespace: claim.namespace,
          claimName,
          readOnly: readOnly ?? false,
        },
      };
    }
    if (v.hostPath)
      return {
        name: v.name,
        hostPath: { path: normalizeHostPath(v.hostPath.path), type: v.hostPath.type ?? '' },
      };
    if (v.emptyDir) {
      const size = sizeLimitBytes(v.emptyDir.sizeLimit);
      return {
        name: v.name,
        emptyDir: {
          medium: v.emptyDir.medium ?? '',
          ...(size !== undefined ? { sizeLimitBytes: size } : {}),
        },
      };
    }
    const source = v.configMap ?? v.secret!;
    const kind = v.configMap ? 'configmap' : 'secret';
    const objectName = v.configMap ? v.configMap.name : v.secret!.secretName;
    // Each key's bytes in base64.
    const contents = new Map<string, string>();
    if (v.configMap) {
      const found = maps.get(objectName);
      if (found) {
        for (const [k, text] of Object.entries(found.data)) contents.set(k, encodeBase64Text(text));
        for (const [k, b64] of Object.entries(found.binaryData)) contents.set(k, b64);
      }
      if (!found && !source.optional) missing.add(`${kind} "${objectName}" not found`);
    } else {
      const found = secrets.get(objectName);
      if (found) for (const [k, text] of Object.entries(found.data)) contents.set(k, encodeBase64Text(text));
      if (!found && !source.optional) missing.add(`${kind} "${objectName}" not found`);
    }
    const exists = v.configMap ? maps.has(objectName) : secrets.has(objectName);
    const mode = source.defaultMode ?? DEFAULT_VOLUME_FILE_MODE;
    const files: AssignedVolumeFile[] = [];
    if (source.items) {
      for (const item of source.items) {
        const data = contents.get(item.key);
        if (data === undefined) {
          if (exists && !source.optional)
            missing.add(`key "${item.key}" not found in ${kind} "${objectName}"`);
          continue;
        }
        files.push({ path: item.path, mode: item.mode ?? mode, data });
      }
    } else {
      for (const key of [...contents.keys()].sort())
        files.push({ path: key, mode, data: contents.get(key)! });
    }
    return v.configMap ? { name: v.name, configMap: { files } } : { name: v.name, secret: { files } };
  });
  const volumes = resolved.filter((v): v is AssignedVolume => v !== undefined);
  return { volumes, missing: [...missing] };
}

/**
 * What the pod's volumes lack, from key names alone (an apply's warnings read no values): as
 * resolvePodVolumes says it, in volume order.
 */
export function missingVolumeRefs(
  spec: PodVolumesSpec,
  secretKeysOf: (name: string) => readonly string[] | undefined,
  configMapKeysOf: (name: string) => readonly string[] | undefined,
): string[] {
  const missing = new Set<string>();
  for (const v of spec.volumes ?? []) {
    const source = v.configMap ?? v.secret;
    if (!source || source.optional) continue;
    const [kind, name] = v.configMap ? ['configmap', v.configMap.name] : ['secret', v.secret!.secretName];
    const keys = v.configMap ? configMapKeysOf(name) : secretKeysOf(name);
    if (!keys) missing.add(`${kind} "${name}" not found`);
    else
      for (const item of source.items ?? [])
        if (!keys.includes(item.key)) missing.add(`key "${item.key}" not found in ${kind} "${name}"`);
  }
  return [...missing];
}

/** A container's mounts as the agent makes them (readOnly spelled out). */
export function assignedMounts(mounts: VolumeMount[] | undefined): AssignedVolumeMount[] | undefined {
  if (!mounts?.length) return undefined;
  return mounts.map((m) => ({
    name: m.name,
    mountPath: m.mountPath,
    readOnly: m.readOnly ?? false,
    ...(m.subPath ? { subPath: m.subPath } : {}),
  }));
}
