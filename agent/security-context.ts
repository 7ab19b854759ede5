import type { AssignedContainer, Assignment } from '../common/agent-protocol.ts';
import type { AssignedSecurity } from '../common/security-context.ts';
import type { ContainerSecurity, Driver } from './driver/driver.ts';

/**
 * A container's securityContext (the pod's and its own, merged by the control plane) on Docker,
 * starting from Berth's defaults: no new privileges and no NET_RAW unless the context says
 * otherwise, as container-defaults.ts explains. And the kubelet's runAsNonRoot check, which needs
 * the image's configured user and so runs once the image is on the node.
 */

/** Capabilities taken from Docker's default set. NET_RAW forges packets: ARP and IP spoofing on a bridge. */
export const DROPPED_CAPABILITIES: readonly string[] = ['NET_RAW'];

/**
 * Docker's settings for one container. Without a securityContext: exactly Berth's defaults (so the
 * spec hash of containers made before securityContext existed is unchanged).
 */
export function containerSecurity(sc: AssignedSecurity | undefined): ContainerSecurity {
  if (sc?.privileged) {
    // Every capability and device, as Kubernetes' privileged: capability lists and the
    // no-new-privileges flag would only pretend to limit it (the policy decided it may).
    return { noNewPrivileges: false, capAdd: [], capDrop: [], privileged: true, ...identity(sc) };
  }
  const add = sc?.capabilities?.add ?? [];
  const drop = sc?.capabilities?.drop ?? [];
  // Kubernetes' runtimes apply drop after add (add X and drop X: no X); Docker the other way round.
  const capAdd = add.filter((c) => !drop.includes(c));
  // NET_RAW stays dropped unless the container adds it (which its namespace policy allowed).
  const addsRaw = capAdd.includes('NET_RAW') || capAdd.includes('ALL');
  const capDrop = drop.includes('ALL')
    ? ['ALL']
    : [...new Set([...(addsRaw ? [] : DROPPED_CAPABILITIES), ...drop])];
  return {
    // allowPrivilegeEscalation: true lifts Berth's default; see the README's security context.
    noNewPrivileges: sc?.allowPrivilegeEscalation !== true,
    capAdd,
    capDrop,
    ...identity(sc),
    ...(sc?.readOnlyRootFilesystem ? { readonlyRootfs: true } : {}),
    ...(sc?.seccompUnconfined ? { seccompUnconfined: true } : {}),
  };
}

/** User and groups: the same whether privileged or not. */
function identity(sc: AssignedSecurity | undefined): Pick<ContainerSecurity, 'user' | 'groupAdd'> {
  if (!sc) return {};
  const groups = [
    ...new Set([...(sc.fsGroup !== undefined ? [sc.fsGroup] : []), ...(sc.supplementalGroups ?? [])]),
  ];
  // A group without a user is a 422 at the control plane: Docker's User needs the user part.
  const user =
    sc.runAsUser === undefined
      ? undefined
      : sc.runAsGroup === undefined
        ? String(sc.runAsUser)
        : `${sc.runAsUser}:${sc.runAsGroup}`;
  return {
    ...(user !== undefined ? { user } : {}),
    ...(groups.length ? { groupAdd: groups.map(String) } : {}),
  };
}

/**
 * The pod's fsGroup, for the pod's volumes: the group that owns them and may write them. Every
 * container of a pod carries the same one (it is a pod field).
 */
export function podFsGroup(a: Pick<Assignment, 'containers'>): number | undefined {
  return a.containers.find((c) => c.securityContext?.fsGroup !== undefined)?.securityContext?.fsGroup;
}

/**
 * Why the kubelet would refuse to create this container under runAsNonRoot, in its words, or
 * undefined when it may run. `imageUser` is the image's configured user (Docker's Config.User, ''
 * when it sets none, which is root): only a numeric uid can be verified, as the kubelet reads it.
 */
export function nonRootRefusal(
  replica: string,
  c: Pick<AssignedContainer, 'name' | 'securityContext'>,
  imageUser: string,
): string | undefined {
  const sc = c.securityContext;
  if (!sc?.runAsNonRoot) return undefined;
  const where = `(pod: "${replica}", container: ${c.name})`;
  if (sc.runAsUser !== undefined)
    return sc.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  const uid = imageUser.split(':')[0] ?? '';
  if (uid === '') return `container has runAsNonRoot and image will run as root ${where}`;
  if (!/^\d+$/.test(uid))
    return `container has runAsNonRoot and image has non-numeric user (${uid}), cannot verify user is non-root ${where}`;
  return Number(uid) === 0 ? `container has runAsNonRoot and image will run as root ${where}` : undefined;
}

/** Whether runAsNonRoot needs the image's user to decide (no runAsUser says it already). */
export const needsImageUser = (c: Pick<AssignedContainer, 'securityContext'>) =>
  c.securityContext?.runAsNonRoot === true && c.securityContext.runAsUser === undefined;

/**
 * The first of `containers` that must not be created under runAsNonRoot, with the kubelet's reason;
 * undefined when all may. Reads the user of each image that decides (present on the node by now).
 */
export async function runAsRootRefusal(
  driver: Pick<Driver, 'imageUser'>,
  replica: string,
  containers: readonly AssignedContainer[],
): Promise<string | undefined> {
  for (const c of containers) {
    if (!c.securityContext?.runAsNonRoot) continue;
    const user = needsImageUser(c) ? await driver.imageUser(c.image) : '';
    const refusal = nonRootRefusal(replica, c, user);
    if (refusal) return refusal;
  }
  return undefined;
}
