import { describe, expect, it } from 'vitest';
import { Assignment } from '../../common/agent-protocol.ts';
import { DeploymentSpec, PodTemplate } from '../../common/deployment.ts';
import { NamespacePolicySpec } from '../../common/policy.ts';
import type { replicas } from '../../db/schema/index.ts';
import { refusedHostPorts } from '../kinds/deployment.ts';
import { toAssignment } from './agents.ts';
import { shownContainers, storedContainers } from './init-statuses.ts';

const row = {
  id: 'web-abc',
  namespace: 'default',
  deploymentName: 'web',
  revision: 1,
  desired: 'running',
  configMapData: null,
  serviceEnv: [],
  defaultMemoryLimitBytes: null,
} as unknown as typeof replicas.$inferSelect;

const secrets = new Map([['db', { type: 'Opaque', data: { url: 'postgres://db' } }]]);

describe('init containers in assignments', () => {
  it('are resolved as containers are (env, secrets, resources) and sent apart, sidecars with their policy', () => {
    const template = PodTemplate.parse({
      spec: {
        initContainers: [
          {
            name: 'migrate',
            image: 'app:1',
            args: ['migrate', '--url=$(DATABASE_URL)'],
            env: [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } }],
            resources: { limits: { memory: '64Mi' } },
          },
          { name: 'proxy', image: 'proxy:1', restartPolicy: 'Always', ports: [{ containerPort: 9000 }] },
        ],
        containers: [{ name: 'web', image: 'app:1' }],
      },
    });
    const sent = Assignment.parse(JSON.parse(JSON.stringify(toAssignment(row, template, secrets))));
    expect(sent.containers.map((c) => c.name)).toEqual(['web']);
    expect(sent.initContainers).toEqual([
      expect.objectContaining({
        name: 'migrate',
        args: ['migrate', '--url=postgres://db'],
        env: [{ name: 'DATABASE_URL', value: 'postgres://db' }],
        resources: { memoryLimitBytes: 64 * 1024 * 1024 },
      }),
      expect.objectContaining({
        name: 'proxy',
        restartPolicy: 'Always',
        ports: [{ containerPort: 9000, protocol: 'TCP' }],
      }),
    ]);
    expect(sent.initContainers![0]!.restartPolicy).toBeUndefined();
  });

  it('a secret only an init container names keeps the pod from starting when it is missing', () => {
    const template = PodTemplate.parse({
      spec: {
        initContainers: [
          {
            name: 'migrate',
            image: 'app:1',
            env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }],
          },
        ],
        containers: [{ name: 'web', image: 'app:1' }],
      },
    });
    expect(toAssignment(row, template, secrets).configError).toBe('secret "nope" not found');
  });

  it('leaves the assignment of a pod without init containers as it was', () => {
    const template = PodTemplate.parse({ spec: { containers: [{ name: 'web', image: 'app:1' }] } });
    expect(Object.keys(toAssignment(row, template, secrets))).not.toContain('initContainers');
  });

  it('keeps init container statuses beside the app containers and shows them apart again', () => {
    const c = (name: string) => ({ name, state: 'running' as const, restartCount: 1, hostPorts: [] });
    const stored = storedContainers({ containers: [c('web')], initContainers: [c('proxy')] });
    expect(stored.map((s) => s.name)).toEqual(['proxy', 'web']);
    expect(shownContainers(JSON.parse(JSON.stringify(stored)))).toEqual({
      containers: [c('web')],
      initContainers: [c('proxy')],
    });
    expect(storedContainers({ containers: [c('web')] })).toEqual([c('web')]);
    expect(shownContainers([c('web')])).toEqual({ containers: [c('web')] });
  });

  it("refuses an init container's host port that the namespace policy does not allow, at its path", () => {
    const spec = DeploymentSpec.parse({
      template: {
        spec: {
          initContainers: [
            {
              name: 'proxy',
              image: 'p',
              restartPolicy: 'Always',
              ports: [{ containerPort: 80, hostPort: 8080 }],
            },
          ],
          containers: [{ name: 'web', image: 'app:1' }],
        },
      },
    });
    expect(refusedHostPorts(spec, NamespacePolicySpec.parse({}), 'default').map((e) => e.path)).toEqual([
      'spec.template.spec.initContainers[0].ports[0].hostPort',
    ]);
  });
});
