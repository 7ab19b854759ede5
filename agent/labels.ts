/**
 * Docker labels that mark a container as Berth's. Only containers carrying LABEL_NODE with this
 * agent's node name are ever adopted, stopped or removed; anything else on the engine is left alone.
 */
export const LABEL_NODE = 'berth.dev/node';
export const LABEL_REPLICA = 'berth.dev/replica';
export const LABEL_DEPLOYMENT = 'berth.dev/deployment';
export const LABEL_NAMESPACE = 'berth.dev/namespace';
export const LABEL_REVISION = 'berth.dev/revision';
export const LABEL_CONTAINER = 'berth.dev/container';
export const LABEL_SPEC_HASH = 'berth.dev/spec-hash';
/** Kept so an orphan found after a restart (its assignment long gone) is still stopped gracefully. */
export const LABEL_GRACE = 'berth.dev/termination-grace-seconds';

/** Docker container names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; replica ids are server-chosen, so sanitise. */
export function containerName(node: string, replicaId: string, container: string): string {
  const safe = (s: string) => s.replace(/[^a-zA-Z0-9_.-]/g, '_');
  return `berth-${safe(node)}-${safe(replicaId)}-${safe(container)}`;
}
