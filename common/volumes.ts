import { z } from 'zod';
import { HostPathVolumeSource } from './host-path.ts';
import { Name } from './names.ts';
import { memoryQuantityProblem, parseMemory } from './quantity.ts';

/**
 * A pod's volumes and its containers' volumeMounts, as Kubernetes writes them, and what an
 * assignment carries of them to the agent. Berth honours four sources: `emptyDir` (a directory
 * that lives and dies with the replica; `medium: Memory` is a tmpfs), `configMap` and `secret`
 * (the object's keys as files, kept up to date in running replicas), `persistentVolumeClaim`
 * (a node-local Docker volume that outlives the replica, common/persistent-volume-claim.ts), and
 * `hostPath` where the namespace policy allows it. Every other source is refused at its path
 * (UNSUPPORTED_VOLUME_FIELDS).
 */

/** Kubernetes' file modes: 0 to 0777, written in decimal in JSON and YAML (0644 is 420). */
const FileMode = z.int().min(0).max(0o777, 'must be a file mode between 0 and 0777 (511)');

/** A path relative to its volume, as Kubernetes accepts it: never absolute, never through "..". */
export function relativePathProblem(path: string): string | undefined {
  if (path.startsWith('/')) return 'must be a relative path';
  if (path.split('/').includes('..')) return "must not contain '..'";
  if (path.startsWith('..')) return "must not start with '..'";
  return undefined;
}

const RelativePath = z
  .string()
  .min(1)
  .max(4096)
  .check((ctx) => {
    const problem = relativePathProblem(ctx.value);
    if (problem) ctx.issues.push({ code: 'custom', input: ctx.value, message: problem });
  });

/** A ConfigMap or Secret key, by the rule both kinds share (common/secret.ts; not imported: a cycle). */
const ObjectKey = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, 'must consist of letters, digits, "-", "_" or "."');

export const KeyToPath = z.strictObject({ key: ObjectKey, path: RelativePath, mode: FileMode.optional() });

const itemsOf = z
  .array(KeyToPath)
  .max(256)
  .optional()
  .check((ctx) => {
    const seen = new Set<string>();
    (ctx.value ?? []).forEach((item, i) => {
      if (seen.has(item.path))
        ctx.issues.push({ code: 'custom', input: item.path, path: [i, 'path'], message: 'must be unique' });
      seen.add(item.path);
    });
  });

export const EmptyDirSource = z.strictObject({
  medium: z.enum(['', 'Memory']).optional(),
  sizeLimit: z
    .union([z.string(), z.number()])
    .check((ctx) => {
      const message = memoryQuantityProblem(ctx.value);
      if (message) ctx.issues.push({ code: 'custom', input: ctx.value, message });
    })
    .optional(),
});

export const ConfigMapVolumeSource = z.strictObject({
  name: Name,
  items: itemsOf,
  defaultMode: FileMode.optional(),
  optional: z.boolean().optional(),
});

export const SecretVolumeSource = z.strictObject({
  secretName: Name,
  items: itemsOf,
  defaultMode: FileMode.optional(),
  optional: z.boolean().optional(),
});

/** A claim of the pod's namespace; `readOnly` makes every mount of it read-only. */
export const PersistentVolumeClaimVolumeSource = z.strictObject({
  claimName: Name,
  readOnly: z.boolean().optional(),
});

const SOURCES = ['emptyDir', 'configMap', 'secret', 'persistentVolumeClaim', 'hostPath'] as const;

export const Volume = z
  .strictObject({
    name: Name,
    emptyDir: EmptyDirSource.optional(),
    configMap: ConfigMapVolumeSource.optional(),
    secret: SecretVolumeSource.optional(),
    persistentVolumeClaim: PersistentVolumeClaimVolumeSource.optional(),
    /** Only under a path prefix the namespace policy allows (common/host-path.ts). */
    hostPath: HostPathVolumeSource.optional(),
  })
  .check((ctx) => {
    const v = ctx.value;
    const given = SOURCES.filter((s) => v[s] !== undefined);
    // A source Berth lacks (hostPath, csi...) is already an issue at its path.
    const unknown = ctx.issues.some((i) => i.code === 'unrecognized_keys');
    if (given.length > 1 || (given.length === 0 && !unknown))
      ctx.issues.push({
        code: 'custom',
        input: v,
        message: `must specify exactly one of ${SOURCES.join(', ')}`,
      });
  });
export type Volume = z.infer<typeof Volume>;

export const VolumeMount = z.strictObject({
  name: Name,
  mountPath: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^\//, 'must be an absolute path')
    .refine((p) => !p.includes(':'), "must not contain ':'"),
  readOnly: z.boolean().optional(),
  subPath: z
    .string()
    .max(4096)
    .check((ctx) => {
      const problem = relativePathProblem(ctx.value);
      if (problem) ctx.issues.push({ code: 'custom', input: ctx.value, message: problem });
    })
    .optional(),
});
export type VolumeMount = z.infer<typeof VolumeMount>;

/** Kubernetes volume fields Berth refuses, each with what to know (manifest-kubernetes.ts names them). */
export const UNSUPPORTED_VOLUME_FIELDS: [string, string][] = [
  ['projected', 'use configMap and secret volumes'],
  ['downwardAPI', 'use env fieldRef'],
  ['ephemeral', 'use emptyDir'],
  ['csi', ''],
  ['nfs', ''],
  ['iscsi', ''],
  ['image', ''],
  ['gitRepo', 'use an init step in the image'],
  ['awsElasticBlockStore', ''],
  ['gcePersistentDisk', ''],
  ['azureDisk', ''],
  ['azureFile', ''],
  ['cephfs', ''],
  ['rbd', ''],
  ['cinder', ''],
  ['fc', ''],
  ['flexVolume', ''],
  ['glusterfs', ''],
  ['mountPropagation', 'mounts are private to the container'],
  ['subPathExpr', 'use subPath'],
  ['recursiveReadOnly', 'use readOnly'],
];

type Mounting = { volumeMounts?: VolumeMount[] | undefined }[];
interface PodVolumesView {
  volumes?: Volume[] | undefined;
  containers: Mounting;
  initContainers?: Mounting | undefined;
}

/**
 * A pod's volume rules that span fields: volume names unique, each mount naming a volume, mount
 * paths unique within a container. And Berth's rules: no `subPath` into a hostPath (name the
 * path itself) or into a claim (the engine mounts a named volume whole); an emptyDir's is bound through a file descriptor, as the kubelet binds it, since a
 * container can replace a directory of it with a symlink out of the volume.
 * Paths are relative to the pod spec.
 */
export function podVolumeIssues(spec: PodVolumesView): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const byName = new Map<string, Volume>();
  (spec.volumes ?? []).forEach((v, i) => {
    if (byName.has(v.name))
      issues.push({ path: ['volumes', i, 'name'], message: `duplicate volume "${v.name}"` });
    else byName.set(v.name, v);
  });
  const each = (list: 'containers' | 'initContainers') => (c: Mounting[number], ci: number) => {
    const paths = new Set<string>();
    (c.volumeMounts ?? []).forEach((m, mi) => {
      const at = [list, ci, 'volumeMounts', mi];
      const volume = byName.get(m.name);
      if (!volume) issues.push({ path: [...at, 'name'], message: `volume "${m.name}" not found in volumes` });
      const mountPath = m.mountPath.replace(/\/+$/, '') || '/';
      if (paths.has(mountPath)) issues.push({ path: [...at, 'mountPath'], message: 'must be unique' });
      paths.add(mountPath);
      if (volume?.persistentVolumeClaim && m.subPath)
        issues.push({
          path: [...at, 'subPath'],
          message:
            'subPath is not supported by Berth for a persistentVolumeClaim (mount the whole volume): the Docker Engine mounts a named volume whole',
        });
      if (volume?.hostPath && m.subPath)
        issues.push({
          path: [...at, 'subPath'],
          message: 'subPath is not supported by Berth for a hostPath (give the whole path as the hostPath)',
        });
    });
  };
  spec.containers.forEach(each('containers'));
  spec.initContainers?.forEach(each('initContainers'));
  return issues;
}

/** A file of a configMap or secret volume: its path in the volume, mode, and bytes in base64. */
export const AssignedVolumeFile = z.object({ path: z.string(), mode: z.int(), data: z.string() });
export type AssignedVolumeFile = z.infer<typeof AssignedVolumeFile>;

/**
 * A volume as the agent makes it: an emptyDir, or the files of a ConfigMap or Secret resolved
 * by the control plane (only the node running the replica is sent them).
 */
export const AssignedVolume = z.object({
  name: z.string(),
  emptyDir: z.object({ medium: z.enum(['', 'Memory']), sizeLimitBytes: z.int().optional() }).optional(),
  configMap: z.object({ files: z.array(AssignedVolumeFile) }).optional(),
  secret: z.object({ files: z.array(AssignedVolumeFile) }).optional(),
  /** A claim's node-local Docker volume (common/persistent-volume-claim.ts claimVolumeName). */
  persistentVolumeClaim: z
    .object({ uid: z.string(), namespace: z.string(), claimName: z.string(), readOnly: z.boolean() })
    .optional(),
  /** A path of the node, normalized, and the kubelet's check of what is there before the bind. */
  hostPath: z.object({ path: z.string(), type: z.string() }).optional(),
});
export type AssignedVolume = z.infer<typeof AssignedVolume>;

export const AssignedVolumeMount = z.object({
  name: z.string(),
  mountPath: z.string(),
  readOnly: z.boolean(),
  subPath: z.string().optional(),
});
export type AssignedVolumeMount = z.infer<typeof AssignedVolumeMount>;

/** Kubernetes' defaultMode for both configMap and secret volumes: 0644. */
export const DEFAULT_VOLUME_FILE_MODE = 0o644;

/** A memory emptyDir's tmpfs size in bytes (undefined: the node's default, half its memory). */
export const sizeLimitBytes = (v: string | number | undefined): number | undefined =>
  v === undefined ? undefined : parseMemory(v);
