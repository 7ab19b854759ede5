import { z } from 'zod';
import { LabelKey, Name } from './names.ts';
import { parseQuantity } from './quantity.ts';

/**
 * A container's environment as Kubernetes writes it: `env` (a value, or `valueFrom` a secret key,
 * a ConfigMap key, a field of the pod, a resource of a container) and `envFrom` (every key of a
 * ConfigMap or a secret). The control plane resolves all of it (workers/verbs/pod-env.ts); agents
 * receive plain values. What Berth cannot fill is refused here with its path, never left empty.
 */

/** Kubernetes' relaxed rule for variable names (what `env[].name` and an envFrom key must match). */
export const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const EnvName = z.string().min(1).max(256).regex(ENV_NAME, 'must be a valid environment variable name');

const KeySelector = z.strictObject({
  name: Name,
  key: z.string().min(1).max(253),
  /** Absent (the source, or the key) leaves the variable out instead of keeping the pod Pending. */
  optional: z.boolean().optional(),
});
export const SecretKeyRef = KeySelector;
export const ConfigMapKeyRef = KeySelector;

/** The pod fields Berth fills, and what each is (API.md "Env from the pod"). */
export const FIELD_PATHS = [
  'metadata.name',
  'metadata.namespace',
  "metadata.labels['KEY']",
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
] as const;

const LABEL_SUBSCRIPT = /^metadata\.labels\['(.*)'\]$/;

/** Why `fieldPath` cannot be filled, or undefined when it can. */
export function fieldPathProblem(path: string): string | undefined {
  const label = LABEL_SUBSCRIPT.exec(path);
  if (label) return LabelKey.safeParse(label[1]).success ? undefined : 'names an invalid label key';
  if ((FIELD_PATHS as readonly string[]).includes(path)) return undefined;
  if (path.startsWith('metadata.annotations'))
    return "is not supported by Berth: it keeps no pod annotations (use metadata.labels['KEY'] or a value)";
  if (path === 'status.podIP' || path === 'status.podIPs')
    return `is not supported by Berth: a pod's address is assigned after its environment is fixed (status.hostIP is the node's address, where its published ports are)`;
  return `is not supported by Berth (supported: ${FIELD_PATHS.join(', ')})`;
}

export const ObjectFieldSelector = z.strictObject({
  apiVersion: z.literal('v1').optional(),
  fieldPath: z.string().superRefine((path, ctx) => {
    const problem = fieldPathProblem(path);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
});

export const RESOURCE_FIELDS = ['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'] as const;
export type ResourceField = (typeof RESOURCE_FIELDS)[number];

/**
 * A divisor's value in millicores (cpu) or bytes (memory); undefined when Kubernetes refuses it.
 * It allows, by exact value: 1 and 1m for cpu; 1, 1k…1E and 1Ki…1Ei for memory.
 */
export function divisorValue(
  resource: ResourceField,
  divisor: string | number | undefined,
): number | undefined {
  if (divisor === undefined) return resource.endsWith('cpu') ? 1000 : 1;
  const q = parseQuantity(divisor);
  if (!q || q.negative || q.digits === 0n) return undefined;
  // The value as 1 × 10^exp10 × 2^exp2, when it is a power of ten or of two at all.
  let { digits, exp10, exp2 } = q;
  while (digits % 10n === 0n) {
    digits /= 10n;
    exp10++;
  }
  while (digits > 1n && digits % 2n === 0n) {
    digits /= 2n;
    exp2++;
  }
  if (digits !== 1n) return undefined;
  if (resource.endsWith('cpu'))
    return exp2 === 0 && (exp10 === 0 || exp10 === -3) ? 10 ** (exp10 + 3) : undefined;
  if (exp2 === 0 && exp10 >= 0 && exp10 <= 18 && exp10 % 3 === 0) return 10 ** exp10;
  if (exp10 === 0 && exp2 >= 10 && exp2 <= 60 && exp2 % 10 === 0) return 2 ** exp2;
  return undefined;
}

export const ResourceFieldSelector = z
  .strictObject({
    /** Another container of the pod; absent: this one. */
    containerName: Name.optional(),
    resource: z.enum(RESOURCE_FIELDS, {
      error: `must be one of ${RESOURCE_FIELDS.join(', ')} (Berth schedules no other resource)`,
    }),
    divisor: z.union([z.string(), z.number()]).optional(),
  })
  .check((ctx) => {
    const { resource, divisor } = ctx.value;
    if (divisor !== undefined && divisorValue(resource, divisor) === undefined)
      ctx.issues.push({
        code: 'custom',
        input: divisor,
        path: ['divisor'],
        message: resource.endsWith('cpu')
          ? 'must be 1m or 1 for a cpu resource'
          : 'must be 1, or 1 of k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei for a memory resource',
      });
  });

const exactlyOne =
  (keys: readonly string[]) => (ctx: { value: Record<string, unknown>; issues: z.core.$ZodRawIssue[] }) => {
    const set = keys.filter((k) => ctx.value[k] !== undefined);
    if (set.length !== 1)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `must specify exactly one of ${keys.join(', ')}`,
      });
  };

export const EnvVarSource = z
  .strictObject({
    secretKeyRef: SecretKeyRef.optional(),
    configMapKeyRef: ConfigMapKeyRef.optional(),
    fieldRef: ObjectFieldSelector.optional(),
    resourceFieldRef: ResourceFieldSelector.optional(),
  })
  .check(exactlyOne(['secretKeyRef', 'configMapKeyRef', 'fieldRef', 'resourceFieldRef']));
export type EnvVarSource = z.infer<typeof EnvVarSource>;

export const EnvVar = z
  .strictObject({
    name: EnvName,
    /** May name earlier variables as `$(NAME)` (`$$` is a literal `$`), as in Kubernetes. */
    value: z.string().max(65536).optional(),
    valueFrom: EnvVarSource.optional(),
  })
  .refine(
    (e) => !(e.value !== undefined && e.valueFrom !== undefined),
    'may not have both value and valueFrom',
  );
export type EnvVar = z.infer<typeof EnvVar>;

const SourceRef = z.strictObject({ name: Name, optional: z.boolean().optional() });

export const EnvFromSource = z
  .strictObject({
    /** Put before every key; a key that is not a valid variable name then is skipped, as Kubernetes does. */
    prefix: z.string().max(256).optional(),
    configMapRef: SourceRef.optional(),
    secretRef: SourceRef.optional(),
  })
  .check(exactlyOne(['configMapRef', 'secretRef']));
export type EnvFromSource = z.infer<typeof EnvFromSource>;
