import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../common/label-selector.ts';
import { fieldRequirements, matchesFields, parseFieldSelector, pinnedName } from './field-selector.ts';
import type { KubeObject } from './objects.ts';
import { findResource } from './resources.ts';
import { KubeStatusError } from './status.ts';
import { parseResourceVersion } from './watch.ts';
import { collapseType, encodeEvent, eventFor, type WatchFilter } from './watch-events.ts';

const pod = (name: string, labels: Record<string, string>, nodeName?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: name, resourceVersion: '5', creationTimestamp: '', labels },
  spec: nodeName ? { nodeName } : {},
  status: { phase: 'Running' },
});

describe('fieldSelector', () => {
  it('parses =, == and != terms, escapes included', () => {
    expect(parseFieldSelector('metadata.name=web,spec.nodeName!=a,status.phase==Running')).toEqual([
      { field: 'metadata.name', op: '=', value: 'web' },
      { field: 'spec.nodeName', op: '!=', value: 'a' },
      { field: 'status.phase', op: '=', value: 'Running' },
    ]);
    expect(parseFieldSelector('metadata.name=a\\,b')).toEqual([
      { field: 'metadata.name', op: '=', value: 'a,b' },
    ]);
    expect(parseFieldSelector('spec.nodeName=')).toEqual([{ field: 'spec.nodeName', op: '=', value: '' }]);
    expect(() => parseFieldSelector('metadata.name')).toThrow(/invalid selector/);
  });

  it('matches the fields a resource is selected by, and words the others as Kubernetes does', () => {
    const pods = findResource('', 'v1', 'pods')!;
    const deployments = findResource('apps', 'v1', 'deployments')!;
    const reqs = fieldRequirements(pods, 'spec.nodeName=n1,metadata.name!=b', undefined);
    expect(matchesFields(pod('a', {}, 'n1'), reqs)).toBe(true);
    expect(matchesFields(pod('b', {}, 'n1'), reqs)).toBe(false);
    expect(matchesFields(pod('a', {}, 'n2'), reqs)).toBe(false);
    expect(matchesFields(pod('a', {}), fieldRequirements(pods, 'spec.nodeName=', undefined))).toBe(true);
    expect(pinnedName(fieldRequirements(deployments, 'metadata.name=web', undefined))).toBe('web');
    const err = (() => {
      try {
        fieldRequirements(deployments, 'spec.nodeName=x', 'app=web');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(KubeStatusError);
    expect((err as KubeStatusError).code).toBe('BAD_REQUEST');
    expect((err as Error).message).toBe(
      'Unable to find {"apps" "v1" "deployments"} that match label selector "app=web", field selector "spec.nodeName=x": field label not supported: spec.nodeName',
    );
  });
});

describe('watch events', () => {
  const filter: WatchFilter = { namespace: 'default', labels: parseLabelSelector('app=web'), fields: [] };
  const change = (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject, prev?: KubeObject) => ({
    rv: 6,
    type,
    object,
    ...(prev ? { prev } : {}),
  });
  const web = pod('p', { app: 'web' });
  const other = pod('p', { app: 'other' });

  it('is the change as the watch sees it through its selectors', () => {
    expect(eventFor(filter, change('ADDED', web))?.type).toBe('ADDED');
    expect(eventFor(filter, change('ADDED', other))).toBeUndefined();
    expect(eventFor(filter, change('MODIFIED', web, web))?.type).toBe('MODIFIED');
    // Comes to match: ADDED; stops matching: DELETED (with the object as it is now).
    expect(eventFor(filter, change('MODIFIED', web, other))?.type).toBe('ADDED');
    expect(eventFor(filter, change('MODIFIED', other, web))).toEqual({ type: 'DELETED', object: other });
    expect(eventFor(filter, change('MODIFIED', other, other))).toBeUndefined();
    // Before unknown: judged by now.
    expect(eventFor(filter, change('MODIFIED', web))?.type).toBe('MODIFIED');
    expect(eventFor(filter, change('DELETED', web))?.type).toBe('DELETED');
    expect(eventFor(filter, change('DELETED', other))).toBeUndefined();
    expect(eventFor({ ...filter, namespace: 'prod' }, change('ADDED', web))).toBeUndefined();
  });

  it('collapses one object’s changes read together, and frames each as a line', () => {
    expect(collapseType(['ADDED', 'MODIFIED'])).toBe('ADDED');
    expect(collapseType(['MODIFIED', 'MODIFIED'])).toBe('MODIFIED');
    expect(collapseType(['ADDED', 'DELETED'])).toBe('DELETED');
    expect(collapseType(['DELETED', 'ADDED'])).toBe('ADDED');
    expect(encodeEvent({ type: 'ADDED', object: { a: 1 } })).toBe('{"type":"ADDED","object":{"a":1}}\n');
  });

  it('reads a resourceVersion as Kubernetes does: absent, "" and "0" mean from now', () => {
    expect(parseResourceVersion(undefined)).toBeUndefined();
    expect(parseResourceVersion('0')).toBeUndefined();
    expect(parseResourceVersion('42')).toBe(42);
    expect(() => parseResourceVersion('abc')).toThrow(KubeStatusError);
  });
});
