import { describe, expect, it } from 'vitest';
import {
  diffListing,
  isSameContainer,
  matchAdopted,
  type StrayReason,
  type Wanted,
} from './container-match.ts';
import type { ContainerInfo } from './driver/driver.ts';
import { LABEL_CONTAINER, LABEL_SPEC_HASH } from './labels.ts';

/** A container found on the engine: `web@h1` is container web with spec hash h1. */
function found(id: string, what: string, over: Partial<ContainerInfo> = {}): ContainerInfo {
  const [name = '', hash = ''] = what.split('@');
  return {
    id,
    name: `berth-n1-r1-${name}`,
    labels: { [LABEL_CONTAINER]: name, [LABEL_SPEC_HASH]: hash },
    running: true,
    created: false,
    hostPorts: [],
    ...over,
  };
}

const web: Wanted = { name: 'web', hash: 'h1' };
const side: Wanted = { name: 'side', hash: 's1' };

describe('matchAdopted', () => {
  const cases: {
    name: string;
    plan: Wanted[];
    found: ContainerInfo[];
    adopted: Record<string, string>;
    strays: Record<string, StrayReason>;
  }[] = [
    { name: 'nothing found', plan: [web, side], found: [], adopted: {}, strays: {} },
    {
      name: 'owner and the member that joined it',
      plan: [web, side],
      found: [found('a', 'web@h1'), found('b', 'side@s1', { networkFrom: 'a' })],
      adopted: { web: 'a', side: 'b' },
      strays: {},
    },
    {
      name: 'an exited container is adopted too',
      plan: [web],
      found: [found('a', 'web@h1', { running: false, exitCode: 1 })],
      adopted: { web: 'a' },
      strays: {},
    },
    {
      name: 'another configuration of the container',
      plan: [web],
      found: [found('a', 'web@h0')],
      adopted: {},
      strays: { a: 'stale configuration' },
    },
    {
      name: 'a container no longer in the pod',
      plan: [web],
      found: [found('a', 'web@h1'), found('b', 'old@o1', { networkFrom: 'a' })],
      adopted: { web: 'a' },
      strays: { b: 'not in the pod' },
    },
    {
      name: 'no plan at all: everything goes',
      plan: [],
      found: [found('a', 'web@h1')],
      adopted: {},
      strays: { a: 'not in the pod' },
    },
    {
      name: 'duplicates: the running one wins wherever it is listed',
      plan: [web],
      found: [found('a', 'web@h1', { running: false, exitCode: 0 }), found('b', 'web@h1')],
      adopted: { web: 'b' },
      strays: { a: 'duplicate' },
    },
    {
      name: 'duplicates, none running: the first listed wins',
      plan: [web],
      found: [
        found('a', 'web@h1', { running: false, exitCode: 0 }),
        found('b', 'web@h1', { running: false, exitCode: 2 }),
      ],
      adopted: { web: 'a' },
      strays: { b: 'duplicate' },
    },
    {
      name: 'a running stale container does not hide an exited current one',
      plan: [web],
      found: [found('a', 'web@h0'), found('b', 'web@h1', { running: false, exitCode: 0 })],
      adopted: { web: 'b' },
      strays: { a: 'stale configuration' },
    },
    {
      name: 'a member in the namespace of another owner',
      plan: [web, side],
      found: [found('a', 'web@h1'), found('b', 'side@s1', { networkFrom: 'gone' })],
      adopted: { web: 'a' },
      strays: { b: 'network owner gone' },
    },
    {
      name: 'a member whose owner is stale',
      plan: [web, side],
      found: [found('a', 'web@h0'), found('b', 'side@s1', { networkFrom: 'a' })],
      adopted: {},
      strays: { a: 'stale configuration', b: 'network owner gone' },
    },
    {
      name: 'a member without its owner',
      plan: [web, side],
      found: [found('b', 'side@s1', { networkFrom: 'a' })],
      adopted: {},
      strays: { b: 'network owner gone' },
    },
    {
      name: 'a member without a known namespace',
      plan: [web, side],
      found: [found('a', 'web@h1'), found('b', 'side@s1')],
      adopted: { web: 'a' },
      strays: { b: 'network owner gone' },
    },
    {
      name: 'a container without the container label',
      plan: [web],
      found: [{ ...found('a', 'web@h1'), labels: {} }],
      adopted: {},
      strays: { a: 'not in the pod' },
    },
  ];

  it.each(cases)('$name', ({ plan, found, adopted, strays }) => {
    const m = matchAdopted(plan, found);
    expect(Object.fromEntries([...m.adopted].map(([name, info]) => [name, info.id]))).toEqual(adopted);
    expect(Object.fromEntries(m.strays.map((s) => [s.container.id, s.reason]))).toEqual(strays);
    // Every container found is either adopted or a stray, once.
    expect(m.adopted.size + m.strays.length).toBe(found.length);
  });

  it('keeps what was made, whatever its configuration, for a pod its assignment cannot configure', () => {
    const made = [found('a', 'web@h0'), found('b', 'side@s0', { networkFrom: 'a' }), found('c', 'old@o1')];
    const m = matchAdopted([web, side], made, true);
    expect(Object.fromEntries([...m.adopted].map(([name, info]) => [name, info.id]))).toEqual({
      web: 'a',
      side: 'b',
    });
    expect(m.strays.map((s) => [s.container.id, s.reason])).toEqual([['c', 'not in the pod']]);
  });
});

describe('isSameContainer', () => {
  it.each([
    {
      what: 'same configuration, same owner',
      info: found('a', 'side@s1', { networkFrom: 'o' }),
      from: 'o',
      same: true,
    },
    { what: 'the owner itself', info: found('a', 'web@h1'), from: undefined, same: true, wanted: web },
    {
      what: 'another configuration',
      info: found('a', 'side@s0', { networkFrom: 'o' }),
      from: 'o',
      same: false,
    },
    {
      what: "another owner's namespace",
      info: found('a', 'side@s1', { networkFrom: 'x' }),
      from: 'o',
      same: false,
    },
    { what: 'an owner where a member is wanted', info: found('a', 'side@s1'), from: 'o', same: false },
  ])('$what', ({ info, from, same, wanted }) => {
    expect(isSameContainer(info, wanted ?? side, from)).toBe(same);
  });
});

describe('diffListing', () => {
  const listed = (id: string, running: boolean, over: Partial<ContainerInfo> = {}) =>
    found(id, 'web@h1', { running, ...over });

  it.each([
    {
      what: 'the listing agrees',
      tracked: [
        { id: 'a', running: true },
        { id: 'b', running: false },
      ],
      removing: [],
      listing: [listed('a', true), listed('b', false)],
      unlisted: [],
      stopped: [],
      strays: [],
    },
    {
      what: 'a tracked container is missing',
      tracked: [{ id: 'a', running: true }],
      removing: [],
      listing: [],
      unlisted: ['a'],
      stopped: [],
      strays: [],
    },
    {
      what: 'a running container listed as stopped (missed events, or a listing older than its start)',
      tracked: [{ id: 'a', running: true }],
      removing: [],
      listing: [listed('a', false)],
      unlisted: [],
      stopped: ['a'],
      strays: [],
    },
    {
      what: 'one the agent believes exited is running: left to its own events',
      tracked: [{ id: 'a', running: false }],
      removing: [],
      listing: [listed('a', true)],
      unlisted: [],
      stopped: [],
      strays: [],
    },
    {
      what: 'an unknown container of the replica',
      tracked: [{ id: 'a', running: true }],
      removing: [],
      listing: [listed('a', true), listed('z', true)],
      unlisted: [],
      stopped: [],
      strays: ['z'],
    },
    {
      what: 'one already being removed is no stray',
      tracked: [],
      removing: ['z'],
      listing: [listed('z', true)],
      unlisted: [],
      stopped: [],
      strays: [],
    },
  ])('$what', ({ tracked, removing, listing, unlisted, stopped, strays }) => {
    const d = diffListing(tracked, new Set(removing), listing);
    expect(d.unlisted).toEqual(unlisted);
    expect(d.stopped).toEqual(stopped);
    expect(d.strays.map((c) => c.id)).toEqual(strays);
  });
});
