import { z } from 'zod';
import type { FieldError } from './problem.ts';

/**
 * The pod's and the containers' securityContext as Kubernetes writes them, what the control plane
 * sends an agent for each container (the two merged: a container's field wins over the pod's), and
 * what a namespace policy must allow. The agent maps the merged form onto Docker
 * (agent/security-context.ts). Fields Berth cannot honour are not in these schemas, so they are
 * 422s at their path (common/manifest-kubernetes.ts says why for each).
 */

/** Linux capabilities, as Kubernetes and Docker name them (without CAP_). */
export const CAPABILITIES = [
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYSLOG',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'WAKE_ALARM',
] as const;
const KNOWN = new Set<string>([...CAPABILITIES, 'ALL']);

/** `net_admin`, `CAP_NET_ADMIN` and `NET_ADMIN` are one capability (the runtimes read all three). */
export function normalizeCapability(name: string): string {
  return name.toUpperCase().replace(/^CAP_/, '');
}

export const Capability = z
  .string()
  .max(64)
  .refine(
    (c) => KNOWN.has(normalizeCapability(c)),
    'must be a Linux capability such as NET_BIND_SERVICE, or ALL',
  );

/** Uids and gids as Kubernetes bounds them. */
const Id = z.int().min(0).max(2147483647);

export const SeccompProfile = z
  .strictObject({
    type: z.enum(['RuntimeDefault', 'Unconfined', 'Localhost']),
    localhostProfile: z.string().max(4096).optional(),
  })
  .check((ctx) => {
    if (ctx.value.type === 'Localhost')
      ctx.issues.push({
        code: 'custom',
        input: ctx.value.type,
        path: ['type'],
        message:
          'Localhost is not supported by Berth: the profile would be a file on each node, outside what a deployment controls (use RuntimeDefault, or Unconfined where the namespace policy allows it)',
      });
  });
export type SeccompProfile = z.infer<typeof SeccompProfile>;

/** Docker applies its docker-default AppArmor profile wherever AppArmor is on; that is all Berth offers. */
export const AppArmorProfile = z.strictObject({
  type: z.literal(
    'RuntimeDefault',
    "only RuntimeDefault is supported by Berth (the container runtime's own profile)",
  ),
});

const Capabilities = z.strictObject({
  add: z.array(Capability).max(64).optional(),
  drop: z.array(Capability).max(64).optional(),
});

/** The pod's securityContext: defaults for every container, and what only a pod has (groups). */
export const PodSecurityContext = z.strictObject({
  runAsUser: Id.optional(),
  runAsGroup: Id.optional(),
  runAsNonRoot: z.boolean().optional(),
  /** A supplementary group of every container, and the group that owns the pod's volumes. */
  fsGroup: Id.optional(),
  /** Only how the volumes are given to fsGroup (skip those whose root already is): the result is the same. */
  fsGroupChangePolicy: z.enum(['Always', 'OnRootMismatch']).optional(),
  supplementalGroups: z.array(Id).max(32).optional(),
  seccompProfile: SeccompProfile.optional(),
  appArmorProfile: AppArmorProfile.optional(),
});
export type PodSecurityContext = z.infer<typeof PodSecurityContext>;

export const SecurityContext = z
  .strictObject({
    runAsUser: Id.optional(),
    runAsGroup: Id.optional(),
    runAsNonRoot: z.boolean().optional(),
    readOnlyRootFilesystem: z.boolean().optional(),
    /** false is Berth's default (no-new-privileges); true lifts it (see README, security context). */
    allowPrivilegeEscalation: z.boolean().optional(),
    /** true only where the namespace policy allows it (allowPrivileged). */
    privileged: z.boolean().optional(),
    capabilities: Capabilities.optional(),
    seccompProfile: SeccompProfile.optional(),
    appArmorProfile: AppArmorProfile.optional(),
  })
  .check((ctx) => {
    // Kubernetes' own validation: a privileged process (or one with SYS_ADMIN) escalates anyway.
    const c = ctx.value;
    if (c.allowPrivilegeEscalation !== false) return;
    const issue = (path: (string | number)[], message: string) =>
      ctx.issues.push({ code: 'custom', input: c, path, message });
    if (c.privileged) issue(['allowPrivilegeEscalation'], 'cannot be false when privileged is true');
    c.capabilities?.add?.forEach((cap, i) => {
      if (normalizeCapability(cap) === 'SYS_ADMIN')
        issue(['capabilities', 'add', i], 'cannot add SYS_ADMIN when allowPrivilegeEscalation is false');
    });
  });
export type SecurityContext = z.infer<typeof SecurityContext>;

/**
 * One container's security settings as the agent applies them: the pod's and the container's
 * contexts merged, capability names normalized, what Docker does anyway (RuntimeDefault) left out.
 */
export const AssignedSecurity = z.object({
  runAsUser: z.int().optional(),
  runAsGroup: z.int().optional(),
  runAsNonRoot: z.boolean().optional(),
  /** The pod's fsGroup: a supplementary group of the container, and the group of the pod's volumes. */
  fsGroup: z.int().optional(),
  supplementalGroups: z.array(z.int()).optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  privileged: z.boolean().optional(),
  capabilities: z.object({ add: z.array(z.string()), drop: z.array(z.string()) }).optional(),
  /** seccompProfile Unconfined: no seccomp filter (absent: the runtime's default profile). */
  seccompUnconfined: z.boolean().optional(),
});
export type AssignedSecurity = z.infer<typeof AssignedSecurity>;

/**
 * The merged context of one container, as `{ securityContext }` to spread into its assignment, or
 * `{}` when neither the pod nor the container has one (so assignments without one keep their shape).
 */
export function assignedSecurity(
  pod: PodSecurityContext | undefined,
  c: SecurityContext | undefined,
): { securityContext?: AssignedSecurity } {
  if (!pod && !c) return {};
  const pick = <K extends keyof PodSecurityContext & keyof SecurityContext>(k: K) => c?.[k] ?? pod?.[k];
  const seccomp = pick('seccompProfile')?.type;
  const add = (c?.capabilities?.add ?? []).map(normalizeCapability);
  const drop = (c?.capabilities?.drop ?? []).map(normalizeCapability);
  const out: AssignedSecurity = {
    runAsUser: pick('runAsUser'),
    runAsGroup: pick('runAsGroup'),
    runAsNonRoot: pick('runAsNonRoot'),
    fsGroup: pod?.fsGroup,
    supplementalGroups: pod?.supplementalGroups?.length ? [...pod.supplementalGroups] : undefined,
    readOnlyRootFilesystem: c?.readOnlyRootFilesystem,
    allowPrivilegeEscalation: c?.allowPrivilegeEscalation,
    privileged: c?.privileged,
    capabilities: add.length || drop.length ? { add: unique(add), drop: unique(drop) } : undefined,
    seccompUnconfined: seccomp === 'Unconfined' ? true : undefined,
  };
  for (const k of Object.keys(out) as (keyof AssignedSecurity)[]) if (out[k] === undefined) delete out[k];
  return { securityContext: out };
}

const unique = (xs: string[]) => [...new Set(xs)];

interface PodLike {
  securityContext?: PodSecurityContext | undefined;
  containers: { securityContext?: SecurityContext | undefined }[];
  /** Init containers, when the pod has them: held to the same rules. */
  initContainers?: { securityContext?: SecurityContext | undefined }[] | undefined;
}

type ContainerPath = ['containers' | 'initContainers', number];

function eachContainer(
  pod: PodLike,
  fn: (c: SecurityContext | undefined, path: ContainerPath) => void,
): void {
  for (const [i, c] of pod.containers.entries()) fn(c.securityContext, ['containers', i]);
  for (const [i, c] of (pod.initContainers ?? []).entries()) fn(c.securityContext, ['initContainers', i]);
}

const pathText = ([list, i]: ContainerPath) => `${list}[${i}]`;

/**
 * Rules over the pod and its containers together (paths relative to the pod spec). Docker sets a
 * group only with a user, and Kubernetes' runtimes refuse a runAsGroup without runAsUser as well.
 */
export function podSecurityIssues(pod: PodLike): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  eachContainer(pod, (c, path) => {
    const group = c?.runAsGroup ?? pod.securityContext?.runAsGroup;
    const user = c?.runAsUser ?? pod.securityContext?.runAsUser;
    if (group === undefined || user !== undefined) return;
    // Said where the group was written: the container's own, else the pod's.
    issues.push({
      path:
        c?.runAsGroup !== undefined
          ? [...path, 'securityContext', 'runAsGroup']
          : ['securityContext', 'runAsGroup'],
      message: `needs a runAsUser (the pod's or ${pathText(path)}'s): Docker sets a group only together with a user`,
    });
  });
  return issues;
}

/** What a namespace policy lets workloads use beyond Berth's defaults (common/policy.ts). */
export interface SecurityAllowances {
  allowedCapabilities?: string[] | undefined;
  allowPrivileged?: boolean | undefined;
  allowUnconfinedSeccomp?: boolean | undefined;
}

/** Capabilities a container may add when its namespace policy names none: binding ports below 1024. */
export const DEFAULT_ALLOWED_CAPABILITIES: readonly string[] = ['NET_BIND_SERVICE'];

/**
 * What the pod asks for that its namespace policy does not allow: capabilities beyond
 * allowedCapabilities, privileged containers, an Unconfined seccomp profile. `prefix` is the pod
 * spec's path in the document (spec.template.spec).
 */
export function refusedSecurity(
  pod: PodLike,
  policy: SecurityAllowances,
  namespace: string,
  prefix = 'spec.template.spec',
): FieldError[] {
  const errors: FieldError[] = [];
  const allowed = new Set(
    (policy.allowedCapabilities ?? DEFAULT_ALLOWED_CAPABILITIES).map(normalizeCapability),
  );
  const allowedText = allowed.size ? [...allowed].join(', ') : 'none';
  const unconfined = (path: string) =>
    errors.push({
      path: `${prefix}.${path}`,
      message: `an Unconfined seccomp profile is not allowed in namespace "${namespace}" (an admin sets allowUnconfinedSeccomp in its namespace policy)`,
    });
  if (pod.securityContext?.seccompProfile?.type === 'Unconfined' && !policy.allowUnconfinedSeccomp)
    unconfined('securityContext.seccompProfile.type');
  eachContainer(pod, (c, path) => {
    c?.capabilities?.add?.forEach((cap, j) => {
      const name = normalizeCapability(cap);
      if (allowed.has(name) || allowed.has('ALL')) return;
      errors.push({
        path: `${prefix}.${pathText(path)}.securityContext.capabilities.add[${j}]`,
        message: `capability ${name} is not allowed in namespace "${namespace}" (its namespace policy allows ${allowedText}; an admin adds to allowedCapabilities)`,
      });
    });
    if (c?.privileged && !policy.allowPrivileged)
      errors.push({
        path: `${prefix}.${pathText(path)}.securityContext.privileged`,
        message: `privileged containers are not allowed in namespace "${namespace}" (an admin sets allowPrivileged in its namespace policy)`,
      });
    if (c?.seccompProfile?.type === 'Unconfined' && !policy.allowUnconfinedSeccomp)
      unconfined(`${pathText(path)}.securityContext.seccompProfile.type`);
  });
  return errors;
}

/** Kubernetes securityContext fields Berth does not honour, with what to do instead (manifest-kubernetes.ts). */
export const UNSUPPORTED_SECURITY_FIELDS: [string, string][] = [
  ['sysctls', "Berth sets no sysctls: they are the node kernel's, shared by every tenant"],
  ['seLinuxOptions', 'Berth sets no SELinux labels'],
  ['seLinuxChangePolicy', 'Berth sets no SELinux labels'],
  ['windowsOptions', 'Berth runs Linux containers'],
  ['procMount', 'only the default, Default, is accepted'],
  [
    'supplementalGroupsPolicy',
    "only the default, Merge, is accepted (the image's /etc/group groups are kept)",
  ],
];
