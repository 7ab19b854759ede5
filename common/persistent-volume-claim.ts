import { z } from 'zod';
import { ObjectMetaInput } from './deployment.ts';
import { memoryQuantityProblem, parseMemory } from './quantity.ts';

/**
 * The PersistentVolumeClaim as users write it (v1, or berth.dev/v1). On Berth a claim is storage
 * on one node: a Docker named volume that the agent of the node where the claim is first used
 * makes, and that outlives every replica until the claim is deleted. So only the access modes
 * node-local storage can honour are accepted, and the fields that pick or pre-fill a volume from
 * elsewhere (volumeName, selector, dataSource) are refused at their path. The requested size is
 * recorded and shown (capacity), as local-path provisioners do; the local volume driver does not
 * cap it.
 */

/** What one node's disk can honour: one node at a time (RWO), or one pod at a time (RWOP). */
export const CLAIM_ACCESS_MODES = ['ReadWriteOnce', 'ReadWriteOncePod'] as const;
const SHARED_MODES = ['ReadWriteMany', 'ReadOnlyMany'];

const issue = (
  ctx: { issues: z.core.$ZodRawIssue[] },
  input: unknown,
  path: PropertyKey[],
  message: string,
) => ctx.issues.push({ code: 'custom', input, path, message });

const StorageQuantity = z.union([z.string(), z.number()]).check((ctx) => {
  const problem = memoryQuantityProblem(ctx.value);
  if (problem)
    ctx.issues.push({ code: 'custom', input: ctx.value, message: problem.replace('memory', 'storage') });
});

const AccessMode = z.string().check((ctx) => {
  if ((CLAIM_ACCESS_MODES as readonly string[]).includes(ctx.value)) return;
  ctx.issues.push({
    code: 'custom',
    input: ctx.value,
    message: SHARED_MODES.includes(ctx.value)
      ? `${ctx.value} is not supported by Berth: a claim is node-local storage, which cannot be shared across nodes (use ReadWriteOnce)`
      : `must be one of ${CLAIM_ACCESS_MODES.join(', ')}`,
  });
});

/** Fields Berth refuses, and why (each a 422 at its path). */
const REFUSED: Record<string, string> = {
  volumeName:
    'is not supported by Berth: a claim gets a new node-local volume; binding to a pre-provisioned volume is not possible',
  selector: 'is not supported by Berth: there are no pre-provisioned volumes to select',
  dataSource: 'is not supported by Berth: a claim starts empty (no snapshots or clones)',
  dataSourceRef: 'is not supported by Berth: a claim starts empty (no snapshots or clones)',
  volumeAttributesClassName: 'is not supported by Berth',
};

export const PersistentVolumeClaimSpecInput = z
  .strictObject({
    accessModes: z.array(AccessMode).min(1, 'at least 1 access mode is required').max(4),
    resources: z.strictObject({
      requests: z.strictObject({ storage: StorageQuantity }, { error: 'storage is required' }),
      limits: z
        .unknown()
        .refine(() => false, 'is not supported by Berth: the local volume driver does not cap a volume')
        .optional(),
    }),
    storageClassName: z.string().max(253).optional(),
    volumeMode: z.string().optional(),
    volumeName: z.unknown().optional(),
    selector: z.unknown().optional(),
    dataSource: z.unknown().optional(),
    dataSourceRef: z.unknown().optional(),
    volumeAttributesClassName: z.unknown().optional(),
  })
  .check((ctx) => {
    const v = ctx.value;
    if (v.volumeMode !== undefined && v.volumeMode !== 'Filesystem')
      issue(
        ctx,
        v.volumeMode,
        ['volumeMode'],
        v.volumeMode === 'Block'
          ? 'Block is not supported by Berth: a claim is a directory on the node (use Filesystem)'
          : 'must be Filesystem',
      );
    for (const [field, message] of Object.entries(REFUSED))
      if ((v as Record<string, unknown>)[field] !== undefined) issue(ctx, undefined, [field], message);
  });

export const PersistentVolumeClaimInput = z.strictObject({
  apiVersion: z.literal('berth.dev/v1').optional(),
  kind: z.literal('PersistentVolumeClaim').optional(),
  metadata: ObjectMetaInput.default({}),
  spec: PersistentVolumeClaimSpecInput,
  /** What a server printed (`kubectl get pvc -o yaml`): ignored, as Kubernetes ignores it on writes. */
  status: z.unknown().optional(),
});
export type PersistentVolumeClaimInput = z.infer<typeof PersistentVolumeClaimInput>;

/** What a claim asks for, as stored and compared on writes. */
export interface PersistentVolumeClaimSpec {
  accessModes: string[];
  storage: string;
  storageClassName: string | null;
  volumeMode: 'Filesystem';
}

export function claimSpecOf(input: PersistentVolumeClaimInput['spec']): PersistentVolumeClaimSpec {
  return {
    accessModes: [...new Set(input.accessModes)],
    storage: String(input.resources.requests.storage),
    storageClassName: input.storageClassName ?? null,
    volumeMode: 'Filesystem',
  };
}

/** Bytes of a stored storage quantity (valid by construction). */
export const storageBytes = (storage: string): number => parseMemory(storage) ?? 0;

/**
 * A claim's lifecycle as users see it (status.phase):
 *
 *   Pending ──first replica placed──▶ Bound ──DELETE──▶ Terminating ──no replica uses it──▶ gone
 *      └────────────DELETE (never used)─────────────────────────────────────────────────────▶ gone
 *
 * Terminating is Kubernetes' pvc-protection finalizer: the claim stays while replicas use it.
 * Once gone, the agent of its node removes the volume on the control plane's word.
 */
export type ClaimPhase = 'Pending' | 'Bound';

/** The Docker named volume that holds a claim's data on its node. */
export const claimVolumeName = (uid: string) => `berth-pvc-${uid}`;
