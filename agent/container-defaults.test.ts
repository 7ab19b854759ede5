import { describe, expect, it } from 'vitest';
import type { AssignedContainer } from '../common/agent-protocol.ts';
import { containerDefaults, DEFAULT_CONTAINER_POLICY, DEFAULT_PIDS_LIMIT } from './container-defaults.ts';

const container = (resources: AssignedContainer['resources'] = {}): AssignedContainer => ({
  name: 'web',
  image: 'web:1',
  imagePullPolicy: 'IfNotPresent',
  env: [],
  ports: [],
  resources,
});
const Mi = 1024 * 1024;

describe('containerDefaults', () => {
  it('takes privileges away from every container: no new privileges, no NET_RAW', () => {
    expect(containerDefaults(container(), DEFAULT_CONTAINER_POLICY).security).toEqual({
      noNewPrivileges: true,
      capAdd: [],
      capDrop: ['NET_RAW'],
    });
  });

  it('limits processes per container: 4096 unless the agent says otherwise, none for 0', () => {
    expect(DEFAULT_PIDS_LIMIT).toBe(4096);
    expect(containerDefaults(container(), DEFAULT_CONTAINER_POLICY).pidsLimit).toBe(4096);
    expect(containerDefaults(container(), { pidsLimit: 64 }).pidsLimit).toBe(64);
    expect(containerDefaults(container(), { pidsLimit: 0 })).not.toHaveProperty('pidsLimit');
  });

  it('limits memory to limits.memory, else to requests.memory, else not at all', () => {
    const both = container({ memoryRequestBytes: 64 * Mi, memoryLimitBytes: 256 * Mi });
    expect(containerDefaults(both, DEFAULT_CONTAINER_POLICY).memoryBytes).toBe(256 * Mi);
    const request = container({ memoryRequestBytes: 64 * Mi, cpuLimitMillis: 500 });
    expect(containerDefaults(request, DEFAULT_CONTAINER_POLICY).memoryBytes).toBe(64 * Mi);
    const neither = container({ cpuRequestMillis: 100 });
    expect(containerDefaults(neither, DEFAULT_CONTAINER_POLICY)).not.toHaveProperty('memoryBytes');
  });

  it('raises a limit derived from a request below what Docker accepts, never one the user wrote', () => {
    const tiny = container({ memoryRequestBytes: 2 * Mi });
    expect(containerDefaults(tiny, DEFAULT_CONTAINER_POLICY).memoryBytes).toBe(6 * Mi);
    const written = container({ memoryLimitBytes: 2 * Mi });
    expect(containerDefaults(written, DEFAULT_CONTAINER_POLICY).memoryBytes).toBe(2 * Mi);
  });

  it('hands out fresh lists: a caller that adds to one changes no other container', () => {
    const a = containerDefaults(container(), DEFAULT_CONTAINER_POLICY);
    a.security.capDrop.push('CHOWN');
    expect(containerDefaults(container(), DEFAULT_CONTAINER_POLICY).security.capDrop).toEqual(['NET_RAW']);
  });
});
