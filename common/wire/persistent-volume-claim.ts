import { z } from 'zod';
import { ApiVersion, ObjectMeta, Timestamp } from './meta.ts';

/** PersistentVolumeClaims as the API returns them (API.md "PersistentVolumeClaims"). */
export const PersistentVolumeClaim = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('PersistentVolumeClaim'),
    metadata: ObjectMeta.extend({
      /** Set once the claim is deleted while replicas still use it (Terminating). */
      deletionTimestamp: Timestamp.optional(),
    }),
    spec: z.object({
      accessModes: z.array(z.string()),
      resources: z.object({ requests: z.object({ storage: z.string() }) }),
      storageClassName: z.string().optional(),
      volumeMode: z.literal('Filesystem'),
    }),
    status: z.object({
      /** Pending: not used yet; Bound: its volume is on `nodeName`. */
      phase: z.enum(['Pending', 'Bound']),
      /** The node holding the claim's volume, once bound. */
      nodeName: z.string().optional(),
      /** Once bound: the requested size, recorded (the local volume driver does not cap it). */
      capacity: z.object({ storage: z.string() }).optional(),
      accessModes: z.array(z.string()).optional(),
    }),
  })
  .meta({ id: 'PersistentVolumeClaim' });
export type PersistentVolumeClaim = z.infer<typeof PersistentVolumeClaim>;

export const PersistentVolumeClaimList = z
  .object({ items: z.array(PersistentVolumeClaim) })
  .meta({ id: 'PersistentVolumeClaimList' });
export type PersistentVolumeClaimList = z.infer<typeof PersistentVolumeClaimList>;
