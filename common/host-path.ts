import { z } from 'zod';
import type { FieldError } from './problem.ts';

/**
 * hostPath volumes: a directory or file of the node bound into the pod. A container that reaches
 * the node's files reaches every tenant's, so none may by default: a namespace policy lists the
 * path prefixes its pods may use (as PodSecurityPolicy's allowedHostPaths did), each read-write or
 * read-only, and an admin writes it. Prefixes match whole path components after `..` is resolved
 * (/var/log allows /var/log/app, not /var/logs nor /var/log/../../etc).
 */

/** The kubelet's checks before the bind; the block and character device types stay refused. */
export const HOST_PATH_TYPES = [
  '',
  'DirectoryOrCreate',
  'Directory',
  'FileOrCreate',
  'File',
  'Socket',
] as const;
export type HostPathType = (typeof HOST_PATH_TYPES)[number];

const AbsolutePath = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^\//, 'must be an absolute path')
  .refine((p) => !p.includes(':'), "must not contain ':'");

export const HostPathVolumeSource = z.strictObject({
  path: AbsolutePath,
  type: z
    .string()
    .refine((t): t is HostPathType => (HOST_PATH_TYPES as readonly string[]).includes(t), {
      message: `must be one of ${HOST_PATH_TYPES.map((t) => `"${t}"`).join(', ')} (Berth binds no devices)`,
    })
    .optional(),
});
export type HostPathVolumeSource = z.infer<typeof HostPathVolumeSource>;

/** One entry of a policy's allowedHostPaths. */
export const AllowedHostPath = z.strictObject({
  pathPrefix: AbsolutePath,
  /** The pods' mounts of paths under it must all be readOnly. */
  readOnly: z.boolean().optional(),
});
export type AllowedHostPath = z.infer<typeof AllowedHostPath>;

/** `..` and `.` resolved, repeated and trailing slashes gone: what the node would open. */
export function normalizeHostPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** Whether `path` is `prefix` or under it, component by component. */
export function underPrefix(path: string, prefix: string): boolean {
  const p = normalizeHostPath(path);
  const root = normalizeHostPath(prefix);
  return root === '/' || p === root || p.startsWith(`${root}/`);
}

interface PodView {
  volumes?: { name: string; hostPath?: HostPathVolumeSource | undefined }[] | undefined;
  containers: { volumeMounts?: { name: string; readOnly?: boolean | undefined }[] | undefined }[];
  initContainers?:
    | { volumeMounts?: { name: string; readOnly?: boolean | undefined }[] | undefined }[]
    | undefined;
}

/**
 * What the pod's hostPath volumes ask that the namespace policy does not allow: a path under no
 * allowed prefix, or a writable mount of one under only read-only prefixes. `prefix` is the pod
 * spec's path in the document.
 */
export function refusedHostPaths(
  pod: PodView,
  allowed: readonly AllowedHostPath[] | undefined,
  namespace: string,
  prefix = 'spec.template.spec',
): FieldError[] {
  const errors: FieldError[] = [];
  const list = allowed ?? [];
  const allowedText = list.length
    ? list.map((a) => `${a.pathPrefix}${a.readOnly ? ' (read-only)' : ''}`).join(', ')
    : 'none';
  (pod.volumes ?? []).forEach((v, i) => {
    if (!v.hostPath) return;
    const matches = list.filter((a) => underPrefix(v.hostPath!.path, a.pathPrefix));
    if (!matches.length) {
      errors.push({
        path: `${prefix}.volumes[${i}].hostPath`,
        message: `hostPath ${normalizeHostPath(v.hostPath.path)} is not allowed in namespace "${namespace}": a container would reach the node's own files (its namespace policy allows ${allowedText}; an admin adds a pathPrefix to allowedHostPaths)`,
      });
      return;
    }
    if (matches.some((a) => !a.readOnly)) return;
    for (const list of ['containers', 'initContainers'] as const)
      (pod[list] ?? []).forEach((c, ci) => {
        (c.volumeMounts ?? []).forEach((m, mi) => {
          if (m.name === v.name && !m.readOnly)
            errors.push({
              path: `${prefix}.${list}[${ci}].volumeMounts[${mi}].readOnly`,
              message: `must be true: hostPath ${normalizeHostPath(v.hostPath!.path)} is allowed read-only in namespace "${namespace}"`,
            });
        });
      });
  });
  return errors;
}
