import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../common/wire/deployment.ts';
import type { Replica } from '../../common/wire/replica.ts';
import { DomainError } from '../errors.ts';
import { aggregatedDiscovery, groupList, resourceList, wantsAggregated } from './discovery.ts';
import { kubeDeployment, kubeList, kubePod, podPhase, REVISION_ANNOTATION } from './objects.ts';
import { KUBE_RESOURCES } from './resources.ts';
import { sourceOf } from './sources.ts';
import { forbiddenStatus, notFoundStatus, statusOf } from './status.ts';
import { humanDuration, podStatusText, TABLE_COLUMNS, toTable, wantsTable } from './tables.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const meta = {
  name: 'web',
  namespace: 'default',
  uid: 'u-1',
  labels: { app: 'web' },
  resourceVersion: '7',
  generation: 3,
  createdAt: T0,
  updatedAt: T0,
};

const deployment = {
  apiVersion: 'berth.dev/v1',
  kind: 'Deployment',
  metadata: meta,
  spec: {
    replicas: 3,
    autoRollback: false,
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'r/web:1' }] },
    },
  },
  status: {
    observedGeneration: 3,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 2,
    availableReplicas: 2,
    unavailableReplicas: 1,
    revision: 4,
    conditions: [],
  },
} as unknown as Deployment;

const replica = (over: Partial<Replica>): Replica =>
  ({
    id: 'web-abc',
    namespace: 'default',
    deployment: 'web',
    revision: 4,
    node: 'vm-1',
    nodeAddress: '10.0.0.1',
    desired: 'running',
    phase: 'Running',
    ready: true,
    restartCount: 2,
    hostPorts: [],
    message: null,
    containers: [{ name: 'web', state: 'running', restartCount: 2, ready: true, hostPorts: [] }],
    draining: false,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  }) as Replica;

describe('Berth objects as Kubernetes objects', () => {
  it('gives a Deployment the apps/v1 form, its revision as the annotation, no Berth-only fields', () => {
    const d = kubeDeployment(deployment);
    expect(d.apiVersion).toBe('apps/v1');
    expect(d.metadata).toMatchObject({
      name: 'web',
      uid: 'u-1',
      resourceVersion: '7',
      creationTimestamp: T0,
    });
    expect(d.metadata.annotations?.[REVISION_ANNOTATION]).toBe('4');
    expect(d.spec).not.toHaveProperty('autoRollback');
    expect(d.status).not.toHaveProperty('revision');
    expect((d.spec as { selector: unknown }).selector).toEqual({ matchLabels: { app: 'web' } });
  });

  it('folds replica phases into Kubernetes pod phases', () => {
    expect(podPhase('Pulling')).toBe('Pending');
    expect(podPhase('Scheduled')).toBe('Pending');
    expect(podPhase('Terminating')).toBe('Running');
    expect(podPhase('Lost')).toBe('Unknown');
    expect(podPhase('Succeeded')).toBe('Succeeded');
  });

  it('shows a replica as a Pod with containerStatuses and the STATUS kubectl users know', () => {
    const pod = kubePod({ replica: replica({}), labels: { app: 'web' } });
    expect(pod.metadata.labels).toMatchObject({ app: 'web' });
    expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web' });
    expect(pod.status).toMatchObject({ phase: 'Running', hostIP: '10.0.0.1' });
    expect(podStatusText(pod)).toBe('Running');
    const waiting = kubePod({
      replica: replica({
        phase: 'Starting',
        ready: false,
        containers: [{ name: 'web', state: 'waiting', restartCount: 0, hostPorts: [] }],
      }),
      labels: {},
    });
    expect(podStatusText(waiting)).toBe('ContainerCreating');
    const crashed = kubePod({
      replica: replica({
        containers: [
          { name: 'web', state: 'waiting', reason: 'CrashLoopBackOff', restartCount: 5, hostPorts: [] },
        ],
      }),
      labels: {},
    });
    expect(podStatusText(crashed)).toBe('CrashLoopBackOff');
    expect(podStatusText(kubePod({ replica: replica({ phase: 'Terminating' }), labels: {} }))).toBe(
      'Terminating',
    );
    expect(kubePod({ replica: replica({ phase: 'Lost' }), labels: {} }).status).toMatchObject({
      reason: 'NodeLost',
    });
  });

  it('gives a list the newest resourceVersion of its items', () => {
    const a = kubeDeployment(deployment);
    const b = kubeDeployment({ ...deployment, metadata: { ...meta, resourceVersion: '12' } });
    expect(kubeList('apps/v1', 'Deployment', [a, b]).metadata.resourceVersion).toBe('12');
    expect(kubeList('apps/v1', 'Deployment', [])).toMatchObject({ kind: 'DeploymentList', items: [] });
  });
});

describe('Tables', () => {
  it('prints Kubernetes durations', () => {
    const s = 1000;
    expect(humanDuration(42 * s)).toBe('42s');
    expect(humanDuration(5 * 60 * s + 3 * s)).toBe('5m3s');
    expect(humanDuration(17 * 60 * s)).toBe('17m');
    expect(humanDuration((3 * 60 + 4) * 60 * s)).toBe('3h4m');
    expect(humanDuration(30 * 3600 * s)).toBe('30h');
    expect(humanDuration((2 * 24 + 5) * 3600 * s)).toBe('2d5h');
    expect(humanDuration(90 * 86400 * s)).toBe('90d');
  });

  it("has Kubernetes' columns for a Deployment, wide ones at priority 1", () => {
    const t = toTable('Deployment', [kubeDeployment(deployment)], '7', new Date(Date.parse(T0) + 65_000));
    expect(t.columnDefinitions.map((c) => [c.name, c.priority])).toEqual([
      ['Name', 0],
      ['Ready', 0],
      ['Up-to-date', 0],
      ['Available', 0],
      ['Age', 0],
      ['Containers', 1],
      ['Images', 1],
      ['Selector', 1],
    ]);
    expect(t.rows[0]?.cells).toEqual(['web', '2/3', 3, 2, '65s', 'web', 'r/web:1', 'app=web']);
    expect(t.rows[0]?.object.metadata.name).toBe('web');
  });

  it('defines columns for every kind the face serves', () => {
    for (const r of KUBE_RESOURCES) expect(TABLE_COLUMNS[r.kind], r.kind).toBeDefined();
  });

  it('answers a Table only when kubectl asks for meta.k8s.io/v1 Tables', () => {
    expect(
      wantsTable(
        'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      ),
    ).toBe(true);
    expect(wantsTable('application/json')).toBe(false);
    expect(wantsTable('application/json;as=Table;v=v1beta1;g=meta.k8s.io')).toBe(false);
  });
});

describe('discovery', () => {
  it('lists each served resource with a source that reads it', () => {
    for (const r of KUBE_RESOURCES) expect(sourceOf(r), `${r.group}/${r.plural}`).toBeDefined();
    const apps = resourceList('apps', 'v1');
    expect(apps.resources).toContainEqual(
      expect.objectContaining({
        name: 'deployments',
        kind: 'Deployment',
        namespaced: true,
        shortNames: ['deploy'],
      }),
    );
  });

  it('lists the pod subresources served (attach, exec, log, portforward) where kubectl looks', () => {
    expect(resourceList('', 'v1').resources).toContainEqual({
      name: 'pods/exec',
      singularName: '',
      namespaced: true,
      kind: 'PodExecOptions',
      verbs: ['create', 'get'],
    });
    const pods = aggregatedDiscovery('core').items[0]?.versions[0]?.resources.find(
      (r) => r.resource === 'pods',
    );
    expect(pods?.subresources?.map((s) => s.subresource)).toEqual(['attach', 'exec', 'log', 'portforward']);
  });

  it('answers aggregated discovery (v2) for the core group and the named groups', () => {
    expect(
      wantsAggregated(
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
      ),
    ).toBe(true);
    expect(wantsAggregated('application/json, */*')).toBe(false);
    const core = aggregatedDiscovery('core');
    expect(core.items.map((i) => i.metadata.name)).toEqual(['']);
    const groups = aggregatedDiscovery('groups');
    expect(groups.items.map((i) => i.metadata.name)).toEqual([
      'apps',
      'batch',
      'networking.k8s.io',
      'metrics.k8s.io',
    ]);
    // kubectl top looks for metrics.k8s.io at v1beta1, as metrics-server serves it.
    expect(groups.items[3]?.versions).toEqual([
      {
        version: 'v1beta1',
        freshness: 'Current',
        resources: [
          expect.objectContaining({ resource: 'pods', scope: 'Namespaced', verbs: ['get', 'list'] }),
          expect.objectContaining({ resource: 'nodes', scope: 'Cluster', verbs: ['get', 'list'] }),
        ],
      },
    ]);
    expect(groupList().groups.at(-1)).toEqual({
      name: 'metrics.k8s.io',
      versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }],
      preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' },
    });
    expect(groups.items[0]?.versions[0]?.resources[0]).toMatchObject({
      resource: 'deployments',
      responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      scope: 'Namespaced',
    });
  });
});

describe('Status errors', () => {
  const deployments = KUBE_RESOURCES.find((r) => r.plural === 'deployments')!;
  it('words NotFound and Forbidden as Kubernetes does', () => {
    expect(statusOf(notFoundStatus(deployments, 'x'))?.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'deployments.apps "x" not found',
      details: { name: 'x', group: 'apps', kind: 'deployments' },
    });
    expect(statusOf(forbiddenStatus(deployments, 'ci', 'list', { namespace: 'prod' }))?.body).toMatchObject({
      reason: 'Forbidden',
      code: 403,
      message:
        'deployments.apps is forbidden: User "ci" cannot list resource "deployments" in API group "apps" in the namespace "prod"',
    });
  });

  it("translates Berth's own errors by code, field paths as causes", () => {
    const body = statusOf(
      new DomainError('VALIDATION_FAILED', 'bad', {
        errors: [{ path: 'spec.replicas', message: 'too many' }],
      }),
    )?.body;
    expect(body).toMatchObject({
      reason: 'Invalid',
      code: 422,
      details: { causes: [{ field: 'spec.replicas' }] },
    });
    expect(statusOf(new Error('boom'))).toBeNull();
  });
});
