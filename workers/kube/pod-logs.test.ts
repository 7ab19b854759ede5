import { describe, expect, it } from 'vitest';
import type { KubeObject } from './objects.ts';
import { LogCursor, logText, parsePodLogQuery, podLogContainer, splitStamp } from './pod-logs.ts';
import { KubeStatusError } from './status.ts';

const NOW = new Date('2026-01-01T00:01:00.000Z');
const pod = (containers: string[], inits: string[] = []): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', uid: 'u', resourceVersion: '1', creationTimestamp: NOW.toISOString() },
  spec: {
    containers: containers.map((name) => ({ name })),
    ...(inits.length ? { initContainers: inits.map((name) => ({ name })) } : {}),
  },
});
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof KubeStatusError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('not refused');
};

describe('pod log options', () => {
  it('reads the query as PodLogOptions', () => {
    expect(
      parsePodLogQuery({ container: 'web', follow: 'true', tailLines: '5', timestamps: 'true' }, NOW),
    ).toEqual({
      container: 'web',
      follow: true,
      previous: false,
      tailLines: 5,
      since: undefined,
      timestamps: true,
      limitBytes: undefined,
    });
    expect(parsePodLogQuery({ sinceSeconds: '60' }, NOW).since).toBe('1767225600.000000000');
    expect(parsePodLogQuery({ sinceTime: '2026-01-01T00:00:00.5Z' }, NOW).since).toBe('1767225600.500000000');
  });

  it('refuses what Kubernetes refuses, naming the field', () => {
    expect(refusal(() => parsePodLogQuery({ tailLines: '-1' }, NOW))).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(refusal(() => parsePodLogQuery({ limitBytes: '0' }, NOW)).message).toContain('limitBytes');
    expect(
      refusal(() => parsePodLogQuery({ sinceSeconds: '1', sinceTime: '2026-01-01T00:00:00Z' }, NOW)).message,
    ).toContain('at most one of `sinceTime` or `sinceSeconds`');
    expect(refusal(() => parsePodLogQuery({ follow: 'maybe' }, NOW))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(refusal(() => parsePodLogQuery({ sinceTime: 'yesterday' }, NOW)).message).toContain('sinceTime');
  });

  it('picks the only container, and words the choice when there are several', () => {
    expect(podLogContainer(pod(['web']), undefined)).toBe('web');
    expect(refusal(() => podLogContainer(pod(['a', 'b']), undefined)).message).toBe(
      'a container name must be specified for pod web-1, choose one of: [a b]',
    );
    expect(refusal(() => podLogContainer(pod(['a', 'b'], ['init']), undefined)).message).toBe(
      'a container name must be specified for pod web-1, choose one of: [a b] or one of the init containers: [init]',
    );
    expect(podLogContainer(pod(['a'], ['init']), 'init')).toBe('init');
    expect(refusal(() => podLogContainer(pod(['a']), 'x')).message).toBe(
      'container x is not valid for pod web-1',
    );
  });
});

describe('following logs', () => {
  it('sends each line once, though the engine repeats those stamped at the instant it is asked from', () => {
    const cursor = new LogCursor();
    const first = cursor.fresh([
      '2026-01-01T00:00:01.1Z a',
      '2026-01-01T00:00:01.2Z b',
      '2026-01-01T00:00:01.2Z b',
    ]);
    expect(first.map((l) => l.text)).toEqual(['a', 'b', 'b']);
    expect(cursor.since).toBe('1767225601.200000000');
    // Asked again from .2: both lines stamped .2 come back, then the new ones (one at .2 too).
    const next = cursor.fresh([
      '2026-01-01T00:00:01.2Z b',
      '2026-01-01T00:00:01.2Z b',
      '2026-01-01T00:00:01.2Z c',
      '2026-01-01T00:00:01.25Z d',
      '2026-01-01T00:00:01.3Z e',
    ]);
    expect(next.map((l) => l.text)).toEqual(['c', 'd', 'e']);
    expect(cursor.fresh(['2026-01-01T00:00:01.3Z e'])).toEqual([]);
  });

  it('orders stamps by time, not as text (RFC 3339 drops trailing zeros)', () => {
    const cursor = new LogCursor();
    cursor.fresh(['2026-01-01T00:00:01.12Z a']);
    expect(
      cursor.fresh(['2026-01-01T00:00:01.1Z old', '2026-01-01T00:00:01.3Z new']).map((l) => l.text),
    ).toEqual(['new']);
  });

  it('starts after an instant when nothing was sent', () => {
    const cursor = new LogCursor();
    cursor.startAt('2026-01-01T00:00:05.000Z');
    expect(cursor.since).toBe('1767225605.000000000');
    expect(cursor.fresh(['2026-01-01T00:00:04Z old', '2026-01-01T00:00:06Z new']).map((l) => l.text)).toEqual(
      ['new'],
    );
  });

  it('writes lines with their stamps only when asked', () => {
    const lines = ['2026-01-01T00:00:01.1Z a b', 'unstamped'].map(splitStamp);
    expect(logText(lines, false)).toBe('a b\nunstamped\n');
    expect(logText(lines, true)).toBe('2026-01-01T00:00:01.1Z a b\nunstamped\n');
  });
});
