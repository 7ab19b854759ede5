import { describe, expect, it } from 'vitest';
import { PodSpec } from './deployment.ts';
import { type ManifestObject, normalizeManifests, parseManifestText } from './manifest.ts';
import { NamespacePolicySpec } from './policy.ts';
import {
  assignedSecurity,
  PodSecurityContext,
  refusedSecurity,
  SecurityContext,
} from './security-context.ts';

/** A Deployment as the hardening guides write it: the pod's and the container's contexts. */
const deployment = (podContext: string, containerContext: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext: ${podContext}
      containers:
      - name: api
        image: api:1
        securityContext: ${containerContext}
`;
const normalize = (text: string) => normalizeManifests(parseManifestText(text, 'yaml'));
const podOf = (o: ManifestObject | undefined): PodSpec => {
  if (o?.kind !== 'Deployment') throw new Error(`expected a Deployment, got ${JSON.stringify(o)}`);
  return o.spec.template.spec;
};
const issuesOf = (text: string) => normalize(text).issues.map(({ path, message }) => ({ path, message }));

const HARDENED_POD =
  '{runAsNonRoot: true, runAsUser: 10001, fsGroup: 2000, seccompProfile: {type: RuntimeDefault}}';
const HARDENED_CONTAINER =
  '{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}';

describe('securityContext as Kubernetes manifests write it', () => {
  it('accepts the usual hardened pod unchanged and keeps every field', () => {
    const { objects, issues } = normalize(deployment(HARDENED_POD, HARDENED_CONTAINER));
    expect(issues).toEqual([]);
    const pod = podOf(objects[0]);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      fsGroup: 2000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('takes out what only restates the defaults: empty contexts, procMount Default, nulls', () => {
    const { objects, issues } = normalize(
      deployment(
        '{supplementalGroupsPolicy: Merge, sysctls: []}',
        '{procMount: Default, seLinuxOptions: null}',
      ),
    );
    expect(issues).toEqual([]);
    const pod = podOf(objects[0]);
    expect(pod.securityContext).toEqual({});
    expect(pod.containers[0]?.securityContext).toEqual({});
    // A template without them at all hashes as before: no key appears.
    const plain = normalize(deployment('{}', '{}'));
    const plainPod = podOf(plain.objects[0]);
    expect(plainPod).not.toHaveProperty('securityContext');
    expect(plainPod.containers[0]).not.toHaveProperty('securityContext');
  });

  it.each([
    [
      'seccompProfile Localhost',
      '{seccompProfile: {type: Localhost, localhostProfile: a.json}}',
      '{}',
      'spec.template.spec.securityContext.seccompProfile.type',
      /Localhost is not supported/,
    ],
    [
      'an AppArmor profile other than RuntimeDefault',
      '{}',
      '{appArmorProfile: {type: Unconfined}}',
      'spec.template.spec.containers[0].securityContext.appArmorProfile.type',
      /only RuntimeDefault/,
    ],
    [
      'sysctls',
      '{sysctls: [{name: net.core.somaxconn, value: "1024"}]}',
      '{}',
      'spec.template.spec.securityContext.sysctls',
      /no sysctls/,
    ],
    [
      'seLinuxOptions',
      '{}',
      '{seLinuxOptions: {level: "s0:c1"}}',
      'spec.template.spec.containers[0].securityContext.seLinuxOptions',
      /SELinux/,
    ],
    [
      'windowsOptions',
      '{windowsOptions: {runAsUserName: a}}',
      '{}',
      'spec.template.spec.securityContext.windowsOptions',
      /Linux/,
    ],
    [
      'procMount Unmasked',
      '{}',
      '{procMount: Unmasked}',
      'spec.template.spec.containers[0].securityContext.procMount',
      /Default/,
    ],
    [
      'an unknown capability',
      '{}',
      '{capabilities: {add: [NET_FLY]}}',
      'spec.template.spec.containers[0].securityContext.capabilities.add[0]',
      /Linux capability/,
    ],
    [
      'allowPrivilegeEscalation false with privileged',
      '{}',
      '{allowPrivilegeEscalation: false, privileged: true}',
      'spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation',
      /privileged/,
    ],
    ['a negative uid', '{runAsUser: -1}', '{}', 'spec.template.spec.securityContext.runAsUser', /./],
    [
      'runAsGroup without a user (the pod’s)',
      '{runAsGroup: 3000}',
      '{}',
      'spec.template.spec.securityContext.runAsGroup',
      /needs a runAsUser/,
    ],
    [
      'runAsGroup without a user (the container’s)',
      '{}',
      '{runAsGroup: 3000}',
      'spec.template.spec.containers[0].securityContext.runAsGroup',
      /needs a runAsUser/,
    ],
  ])('refuses %s with a 422 at its path', (_what, pod, container, path, message) => {
    const issues = issuesOf(deployment(pod, container));
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]?.message).toMatch(message);
  });

  it('accepts runAsGroup with the user from the other context, and CAP_-prefixed or lowercase names', () => {
    expect(
      issuesOf(
        deployment(
          '{runAsUser: 1000}',
          '{runAsGroup: 3000, capabilities: {add: [cap_chown], drop: [CAP_NET_RAW]}}',
        ),
      ),
    ).toEqual([]);
  });
});

describe('assignedSecurity: what the agent is sent', () => {
  const pod = PodSecurityContext.parse({
    runAsUser: 1000,
    runAsGroup: 3000,
    runAsNonRoot: true,
    fsGroup: 2000,
    supplementalGroups: [4000],
    seccompProfile: { type: 'RuntimeDefault' },
  });

  it('sends nothing when neither the pod nor the container has a context', () => {
    expect(assignedSecurity(undefined, undefined)).toEqual({});
  });

  it('merges the two, the container winning, with pod-only fields from the pod', () => {
    const c = SecurityContext.parse({
      runAsUser: 10001,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { add: ['net_bind_service'], drop: ['ALL', 'CAP_NET_RAW'] },
      seccompProfile: { type: 'Unconfined' },
    });
    expect(assignedSecurity(pod, c)).toEqual({
      securityContext: {
        runAsUser: 10001,
        runAsGroup: 3000,
        runAsNonRoot: true,
        fsGroup: 2000,
        supplementalGroups: [4000],
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL', 'NET_RAW'] },
        seccompUnconfined: true,
      },
    });
  });

  it("leaves RuntimeDefault out (Docker's default) and takes the pod's fields for a container without a context", () => {
    expect(assignedSecurity(pod, undefined).securityContext).toEqual({
      runAsUser: 1000,
      runAsGroup: 3000,
      runAsNonRoot: true,
      fsGroup: 2000,
      supplementalGroups: [4000],
    });
  });
});

describe('refusedSecurity: the namespace policy', () => {
  const podWith = (container: object, podContext: object = {}) =>
    PodSpec.parse({
      securityContext: podContext,
      containers: [{ name: 'web', image: 'web:1', securityContext: container }],
    });
  const DEFAULT = NamespacePolicySpec.parse({});

  it('lets every container add NET_BIND_SERVICE and drop anything by default', () => {
    expect(
      refusedSecurity(
        podWith({ capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } }),
        DEFAULT,
        'shop',
      ),
    ).toEqual([]);
  });

  it('refuses other capabilities, privileged and Unconfined seccomp, naming each path', () => {
    const pod = podWith(
      { capabilities: { add: ['NET_BIND_SERVICE', 'NET_ADMIN', 'NET_RAW'] }, privileged: true },
      { seccompProfile: { type: 'Unconfined' } },
    );
    const refused = refusedSecurity(pod, DEFAULT, 'shop');
    expect(refused.map((e) => e.path)).toEqual([
      'spec.template.spec.securityContext.seccompProfile.type',
      'spec.template.spec.containers[0].securityContext.capabilities.add[1]',
      'spec.template.spec.containers[0].securityContext.capabilities.add[2]',
      'spec.template.spec.containers[0].securityContext.privileged',
    ]);
    expect(refused[1]?.message).toBe(
      'capability NET_ADMIN is not allowed in namespace "shop" (its namespace policy allows NET_BIND_SERVICE; an admin adds to allowedCapabilities)',
    );
  });

  it('allows what the policy names', () => {
    const policy = NamespacePolicySpec.parse({
      allowedCapabilities: ['net_admin', 'CAP_NET_RAW'],
      allowPrivileged: true,
      allowUnconfinedSeccomp: true,
    });
    const pod = podWith({
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'] },
      privileged: true,
      seccompProfile: { type: 'Unconfined' },
    });
    expect(refusedSecurity(pod, policy, 'shop')).toEqual([]);
    // A policy that names capabilities replaces the default: NET_BIND_SERVICE is then not among them.
    expect(
      refusedSecurity(podWith({ capabilities: { add: ['NET_BIND_SERVICE'] } }), policy, 'shop'),
    ).toHaveLength(1);
    expect(
      refusedSecurity(
        podWith({ capabilities: { add: ['SYS_TIME'] } }),
        NamespacePolicySpec.parse({ allowedCapabilities: ['ALL'] }),
        'shop',
      ),
    ).toEqual([]);
  });

  it('holds init containers to the same rules, naming them', () => {
    const pod = PodSpec.parse({
      containers: [{ name: 'web', image: 'web:1' }],
      initContainers: [
        { name: 'setup', image: 'setup:1', securityContext: { capabilities: { add: ['NET_ADMIN'] } } },
      ],
    });
    expect(refusedSecurity(pod, DEFAULT, 'shop').map((e) => e.path)).toEqual([
      'spec.template.spec.initContainers[0].securityContext.capabilities.add[0]',
    ]);
    const grouped = PodSpec.safeParse({
      containers: [{ name: 'web', image: 'web:1' }],
      initContainers: [{ name: 'setup', image: 'setup:1', securityContext: { runAsGroup: 5 } }],
    });
    expect(grouped.error?.issues.map((i) => i.path)).toEqual([
      ['initContainers', 0, 'securityContext', 'runAsGroup'],
    ]);
  });

  it('reads policies stored before these fields as the defaults', () => {
    const stored: NamespacePolicySpec = {
      allowedHostSuffixes: [],
      allowWildcardHosts: false,
      quota: {},
      defaultLimits: {},
    };
    expect(refusedSecurity(podWith({ capabilities: { add: ['NET_BIND_SERVICE'] } }), stored, 'shop')).toEqual(
      [],
    );
    expect(refusedSecurity(podWith({ privileged: true }), stored, 'shop')).toHaveLength(1);
  });
});
