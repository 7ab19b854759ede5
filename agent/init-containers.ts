import type { AssignedContainer, Assignment } from '../common/agent-protocol.ts';
import type { ContainerState } from './container-runner.ts';
import type { Driver } from './driver/driver.ts';
import { PAUSE_PATH, pauseImage } from './pause-image.ts';
import type { RestartPolicy } from './restart-tracker.ts';

/*
 * What a pod's init containers and sidecars change in how it runs, as pure decisions that
 * pod-runner.ts carries out. A pod with init containers runs, in this order:
 *
 *   POD (the network holder: pause-image.ts) → each init container in turn: a plain one to its
 *   successful exit, a sidecar (restartPolicy: Always) until it has started → the app containers
 *
 * The holder owns the pod's network namespace (and publishes every port) from the first init
 * container to the last app container, since an init container exits and an app container is not
 * started until they all have. A pod without init containers is planned exactly as before: its
 * first app container owns the namespace.
 */

/** What a container is to its pod. */
export type ContainerRole = 'holder' | 'init' | 'sidecar' | 'app';

/** The holder's container name: not a DNS label, so no container of the pod can have it. */
export const HOLDER_NAME = 'POD';

export interface PodMember {
  spec: AssignedContainer;
  role: ContainerRole;
}

/** The pod's containers in the order they start, each with its role. */
export function podMembers(a: Assignment): PodMember[] {
  const apps = a.containers.map((spec): PodMember => ({ spec, role: 'app' }));
  const inits = a.initContainers ?? [];
  if (inits.length === 0) return apps;
  const init = inits.map(
    (spec): PodMember => ({ spec, role: spec.restartPolicy === 'Always' ? 'sidecar' : 'init' }),
  );
  return [{ spec: holderSpec(), role: 'holder' }, ...init, ...apps];
}

/**
 * The holder asks for next to nothing: 8 MiB, no ports of its own (it publishes the pod's), and
 * no privilege at all (Kubernetes' pause runs as 65535 too; waiting needs no capability).
 */
function holderSpec(): AssignedContainer {
  return {
    name: HOLDER_NAME,
    image: pauseImage()?.ref ?? 'berth-pause:unsupported',
    imagePullPolicy: 'Never',
    command: [PAUSE_PATH],
    env: [],
    ports: [],
    resources: { memoryLimitBytes: 8 * 1024 * 1024 },
    securityContext: {
      runAsUser: 65535,
      runAsGroup: 65535,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { add: [], drop: ['ALL'] },
    },
  };
}

/**
 * The restart policy of one container, as Kubernetes applies it: a plain init container is
 * restarted on failure unless the pod's policy is Never (it never runs again once it succeeded);
 * sidecars and the holder are restarted whenever they exit.
 */
export function restartPolicyOf(role: ContainerRole, pod: RestartPolicy): RestartPolicy {
  if (role === 'holder' || role === 'sidecar') return 'Always';
  if (role === 'init') return pod === 'Never' ? 'Never' : 'OnFailure';
  return pod;
}

/** What the gate reads of a container. */
export interface Gated {
  state: Readonly<ContainerState>;
  /** Running, its startup probe passed (or none) and its postStart hook done. */
  started: boolean;
}

/**
 * Whether the containers after this one may start: a plain init container once it exited with 0
 * (for good), a sidecar once it has started; the others do not hold anything back.
 */
export function letsNextStart(role: ContainerRole, c: Gated): boolean {
  if (role === 'init') return completed(c.state);
  if (role === 'sidecar') return c.started;
  return true;
}

/** Exited with 0 and not to be restarted: a plain init container's success. */
export function completed(s: Readonly<ContainerState>): boolean {
  return s.kind === 'exited' && s.exitCode === 0 && s.restartAt === undefined;
}

/** Exited with non-zero code and not to be restarted (restartPolicy Never): the pod has failed. */
export function failedForGood(
  s: Readonly<ContainerState>,
): s is Readonly<ContainerState & { kind: 'exited' }> {
  return s.kind === 'exited' && s.exitCode !== undefined && s.exitCode !== 0 && s.restartAt === undefined;
}

/**
 * Kubernetes' `Init:N/M` for a pod still initializing (N init containers done or started, of M);
 * undefined once every one has let the next start.
 */
export function initProgress(members: readonly { role: ContainerRole; gate: Gated }[]): string | undefined {
  const inits = members.filter((m) => m.role === 'init' || m.role === 'sidecar');
  const done = inits.findIndex((m) => !letsNextStart(m.role, m.gate));
  if (done === -1) return undefined;
  return `Init:${done}/${inits.length}`;
}

/** Makes the holder's image present: imported from the agent's own bytes, never pulled. */
export async function ensureHolderImage(driver: Driver): Promise<void> {
  const image = pauseImage();
  if (!image) throw new Error(`pods with init containers are not supported on ${process.arch} nodes`);
  if (await driver.imageExists(image.ref)) return;
  await driver.importImage(image.ref, image.tar);
}
