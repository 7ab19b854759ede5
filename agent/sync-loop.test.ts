import { describe, expect, it } from 'vitest';
import type { AssignmentsResponse } from '../common/agent-protocol.ts';
import type { ApiClient } from './api-client.ts';
import { createLogger } from './log.ts';
import type { PodManager } from './pod-manager.ts';
import type { Session } from './session.ts';
import type { StateStore } from './state-store.ts';
import { SyncLoop } from './sync-loop.ts';

const body = (network: number): AssignmentsResponse => ({
  replicas: [],
  logRequests: [],
  pollIntervalSeconds: 10,
  services: { clusterDomain: 'cluster.local', endpointCidr: '10.112.0.0/16', services: [], routes: [] },
  ...(network > 1 ? { logRequests: [{ id: `log-${network}`, replicaId: 'r', tail: 5 }] } : {}),
});

describe('SyncLoop', () => {
  it('polls again at once after an answer whose only news is a new version (a service map change)', async () => {
    const abort = new AbortController();
    const polls: (string | undefined)[] = [];
    const answered: string[] = [];
    // 1: the first answer; 2: only the service map's version moved, answered at once (the poll
    // raced the change); 3: a log request, which must not wait a poll interval (10 s) behind it.
    const answers = [
      { kind: 'changed' as const, etag: '"a1.n1"', body: body(1) },
      { kind: 'changed' as const, etag: '"a1.n2"', body: { ...body(1) } },
      { kind: 'changed' as const, etag: '"a2.n2"', body: body(2) },
    ];
    const api = {
      assignments: async (_token: string, etag: string | undefined) => {
        polls.push(etag);
        const next = answers.shift();
        if (next) return next;
        await new Promise((r) => setTimeout(r, 50));
        abort.abort();
        return { kind: 'unchanged' as const };
      },
      logs: async (_token: string, answer: { id: string }) => {
        answered.push(answer.id);
      },
    } as unknown as ApiClient;
    const loop = new SyncLoop({
      api,
      session: { token: 't' } as unknown as Session,
      store: { saveAssignments: async () => {} } as unknown as StateStore,
      manager: {
        apply: async () => {},
        answerLog: async (req: { id: string }) => ({ id: req.id, lines: [] }),
      } as unknown as PodManager,
      log: createLogger('silent'),
      server: 'http://cp',
      node: 'n1',
      waitSeconds: 25,
      signal: abort.signal,
    });
    const started = Date.now();
    loop.start();
    await loop.stopped();
    expect(polls.slice(0, 3)).toEqual([undefined, '"a1.n1"', '"a1.n2"']);
    expect(answered).toEqual(['log-2']);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('learns the usage interval from an unchanged answer too (an agent resumed with its saved ETag)', async () => {
    const abort = new AbortController();
    const intervals: number[] = [];
    const api = {
      assignments: async () => {
        abort.abort();
        return { kind: 'unchanged' as const, usageIntervalSeconds: 15 };
      },
    } as unknown as ApiClient;
    const loop = new SyncLoop({
      api,
      session: { token: 't' } as unknown as Session,
      store: { saveAssignments: async () => {} } as unknown as StateStore,
      manager: { apply: async () => {} } as unknown as PodManager,
      log: createLogger('silent'),
      server: 'http://cp',
      node: 'n1',
      waitSeconds: 25,
      signal: abort.signal,
      onUsageInterval: (s) => intervals.push(s),
    });
    loop.start({ etag: '"a1.n1"', replicas: [] });
    await loop.stopped();
    expect(intervals).toEqual([15]);
  });

  it('starts each exec session once, though later answers list it until its socket takes it', async () => {
    const abort = new AbortController();
    const exec = { id: 'exec_1', replicaId: 'r', container: 'main', command: ['sh'], tty: true, stdin: true };
    const answers = [
      { kind: 'changed' as const, etag: '"a1.n1"', body: { ...body(1), execRequests: [exec] } },
      { kind: 'changed' as const, etag: '"a2.n1"', body: { ...body(1), execRequests: [exec] } },
      { kind: 'changed' as const, etag: '"a3.n1"', body: body(1) },
    ];
    const api = {
      assignments: async () => {
        const next = answers.shift();
        if (next) return next;
        abort.abort();
        return { kind: 'unchanged' as const };
      },
    } as unknown as ApiClient;
    const started: string[] = [];
    const loop = new SyncLoop({
      api,
      session: { token: 't' } as unknown as Session,
      store: { saveAssignments: async () => {} } as unknown as StateStore,
      manager: { apply: async () => {} } as unknown as PodManager,
      log: createLogger('silent'),
      server: 'http://cp',
      node: 'n1',
      waitSeconds: 25,
      signal: abort.signal,
      onExec: (req) => started.push(req.id),
    });
    loop.start();
    await loop.stopped();
    expect(started).toEqual(['exec_1']);
  });
});
