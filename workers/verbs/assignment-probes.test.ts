import { describe, expect, it } from 'vitest';
import { Assignment } from '../../common/agent-protocol.ts';
import { PodTemplate } from '../../common/deployment.ts';
import type { replicas } from '../../db/schema/index.ts';
import { toAssignment } from './agents.ts';

const row = {
  id: 'web-abc',
  namespace: 'default',
  deploymentName: 'web',
  revision: 1,
  desired: 'running',
} as typeof replicas.$inferSelect;

// Every probe and hook field a template accepts reaches the agent: none is accepted and dropped.
describe('probes and lifecycle hooks in assignments', () => {
  it('carries startup and grpc probes with their grace, and both hooks, as the agent parses them', () => {
    const template = PodTemplate.parse({
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'web:1',
            startupProbe: { httpGet: { path: '/healthz', port: 8080 }, failureThreshold: 30 },
            readinessProbe: { grpc: { port: 9000, service: 'db' } },
            livenessProbe: { grpc: { port: 9000 }, terminationGracePeriodSeconds: 5 },
            lifecycle: {
              postStart: { exec: { command: ['sh', '-c', 'echo up'] } },
              preStop: { sleep: { seconds: 3 } },
            },
          },
        ],
      },
    });
    const sent = Assignment.parse(JSON.parse(JSON.stringify(toAssignment(row, template, new Map()))));
    const c = sent.containers[0]!;
    expect(c.startupProbe).toMatchObject({ httpGet: { path: '/healthz', port: 8080 }, failureThreshold: 30 });
    expect(c.readinessProbe?.grpc).toEqual({ port: 9000, service: 'db' });
    expect(c.livenessProbe).toMatchObject({ grpc: { port: 9000 }, terminationGracePeriodSeconds: 5 });
    expect(c.lifecycle).toEqual({
      postStart: { exec: { command: ['sh', '-c', 'echo up'] } },
      preStop: { sleep: { seconds: 3 } },
    });
  });
});
