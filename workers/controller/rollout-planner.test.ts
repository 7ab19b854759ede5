import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../common/deployment.ts';
import {
  type Plan,
  type PlannerInput,
  type PlannerReplica,
  planRollout,
  resolveIntOrPercent,
  rollingBounds,
} from './rollout-planner.ts';

const rolling = (maxSurge: number | string, maxUnavailable: number | string): Strategy => ({
  type: 'RollingUpdate',
  rollingUpdate: { maxSurge, maxUnavailable },
});
const recreate: Strategy = { type: 'Recreate' };

const T0 = 1_700_000_000_000;

/**
 * A tiny world for the planner: replica rows, a spec and a clock. `apply` does what the
 * controller does with a plan (rows for creates, desired=stopped for stops); the agent-side
 * helpers do what agents report.
 */
class World {
  pods: PlannerReplica[] = [];
  now = T0;
  replicas: number;
  strategy: Strategy;
  minReadySeconds = 0;
  currentRevision = 1;
  paused = false;
  previousReplicas: number | undefined;
  trackPrevious: boolean;
  private nextId = 0;

  constructor(replicas: number, strategy: Strategy, opts: { trackPrevious?: boolean } = {}) {
    this.replicas = replicas;
    this.strategy = strategy;
    this.trackPrevious = opts.trackPrevious ?? false;
    if (this.trackPrevious) this.previousReplicas = replicas;
  }

  input(): PlannerInput {
    return {
      now: this.now,
      replicas: this.replicas,
      strategy: this.strategy,
      minReadySeconds: this.minReadySeconds,
      currentRevision: this.currentRevision,
      paused: this.paused,
      pods: this.pods.map((p) => ({ ...p })),
      ...(this.previousReplicas === undefined ? {} : { previousReplicas: this.previousReplicas }),
    };
  }

  plan(): Plan {
    return planRollout(this.input());
  }

  apply(plan: Plan): void {
    const stop = new Set(plan.stop);
    for (const p of this.pods) if (stop.has(p.id)) p.desired = 'stopped';
    for (const c of plan.create) for (let i = 0; i < c.count; i++) this.add(c.revision, 'Pending');
    if (this.trackPrevious) this.previousReplicas = this.replicas;
  }

  /** Plans and applies once. */
  step(): Plan {
    const plan = this.plan();
    this.apply(plan);
    return plan;
  }

  add(revision: number, phase: PlannerReplica['phase'], ready = false): PlannerReplica {
    const placed = phase !== 'Pending';
    const p: PlannerReplica = {
      id: `r${this.nextId++}`,
      revision,
      desired: 'running',
      phase,
      nodeId: placed ? 'n1' : null,
      ready,
      readySince: ready ? this.now - 3_600_000 : null,
      createdAt: this.now,
    };
    this.pods.push(p);
    return p;
  }

  /** `count` ready, long-available replicas of a revision. */
  seed(revision: number, count: number): PlannerReplica[] {
    return Array.from({ length: count }, () => this.add(revision, 'Running', true));
  }

  alive(revision?: number): PlannerReplica[] {
    return this.pods.filter(
      (p) =>
        p.desired === 'running' && p.phase !== 'Lost' && (revision === undefined || p.revision === revision),
    );
  }

  place(p: PlannerReplica, node = 'n1'): void {
    if (p.nodeId === null) {
      p.nodeId = node;
      p.phase = 'Scheduled';
    }
  }

  becomeReady(p: PlannerReplica): void {
    this.place(p);
    p.phase = 'Running';
    if (!p.ready) {
      p.ready = true;
      p.readySince = this.now;
    }
  }

  /** Every alive replica gets placed and ready, and stopped replicas finish going away. */
  settleAgents(): void {
    for (const p of this.alive()) this.becomeReady(p);
    this.pods = this.pods.filter((p) => p.desired === 'running');
  }

  count(revision: number): number {
    return this.alive(revision).length;
  }
}

const created = (plan: Plan, revision: number) =>
  plan.create.filter((c) => c.revision === revision).reduce((n, c) => n + c.count, 0);

describe('resolveIntOrPercent', () => {
  it.each([
    [3, 10, true, 3],
    [3, 10, false, 3],
    ['25%', 3, true, 1],
    ['25%', 3, false, 0],
    ['25%', 10, true, 3],
    ['25%', 10, false, 2],
    ['30%', 10, true, 3],
    ['10%', 30, true, 3],
    ['10%', 30, false, 3],
    ['0%', 7, true, 0],
    ['100%', 7, false, 7],
    ['1%', 1, true, 1],
    ['1%', 1, false, 0],
    ['50%', 0, true, 0],
  ] as const)('%s of %i (round up: %s) is %i', (value, total, up, expected) => {
    expect(resolveIntOrPercent(value, total, up)).toBe(expected);
  });

  it('rejects a malformed percentage', () => {
    expect(() => resolveIntOrPercent('12.5%', 10, true)).toThrow(RangeError);
  });
});

describe('rollingBounds', () => {
  it.each([
    [3, rolling('25%', '25%'), 1, 0],
    [10, rolling('25%', '25%'), 3, 2],
    [10, rolling('30%', 0), 3, 0],
    [3, rolling(0, 1), 0, 1],
    // Both resolve to zero: one may be unavailable, or nothing could ever move.
    [1, rolling('0%', '25%'), 0, 1],
    [3, rolling(0, '10%'), 0, 1],
    // Never more unavailable than there are replicas; none at all for zero replicas.
    [2, rolling(1, 5), 1, 2],
    [0, rolling('25%', '25%'), 0, 0],
    [0, rolling(0, 0), 0, 0],
    [5, recreate, 0, 0],
  ] as const)('%i replicas, %o: surge %i, unavailable %i', (replicas, strategy, surge, unavailable) => {
    expect(rollingBounds(replicas, strategy)).toEqual({ maxSurge: surge, maxUnavailable: unavailable });
  });
});

describe('planRollout: first deploy and steady state', () => {
  it('creates every replica of a new deployment at once and completes when they are available', () => {
    const w = new World(3, rolling('25%', '25%'));
    const plan = w.step();
    expect(plan.create).toEqual([{ revision: 1, count: 3 }]);
    expect(plan.stop).toEqual([]);
    expect(plan.status).toEqual({
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 0,
      availableReplicas: 0,
      unavailableReplicas: 3,
    });
    expect(plan.complete).toBe(false);
    expect(plan.available).toBe(false);
    w.settleAgents();
    const done = w.plan();
    expect(done).toMatchObject({ create: [], stop: [], complete: true, available: true, recheckAt: null });
    expect(done.status).toEqual({
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 0,
    });
  });

  it('scales a single revision up and down, stopping the least useful replicas first', () => {
    const w = new World(5, rolling('25%', '25%'));
    const [a, b, c] = w.seed(1, 3);
    const pending = w.add(1, 'Pending');
    const notReady = w.add(1, 'Running');
    expect(w.plan()).toMatchObject({ create: [], stop: [] });
    w.replicas = 8;
    expect(w.plan().create).toEqual([{ revision: 1, count: 3 }]);
    w.replicas = 2;
    // Unplaced first, then not ready, then the one ready for the shortest time.
    a!.readySince = T0 - 1000;
    b!.readySince = T0 - 2000;
    c!.readySince = T0 - 3000;
    expect(w.plan().stop).toEqual([pending.id, notReady.id, a!.id]);
  });

  it('does nothing for a deployment scaled to zero with nothing left', () => {
    const w = new World(0, rolling('25%', '25%'));
    expect(w.plan()).toMatchObject({ create: [], stop: [], complete: true, available: true });
  });
});

describe('planRollout: rolling update', () => {
  it('3 replicas at 25%/25% (surge 1, unavailable 0) replaces one at a time and never dips', () => {
    const w = new World(3, rolling('25%', '25%'));
    w.seed(1, 3);
    w.currentRevision = 2;

    let plan = w.step();
    expect(plan.create).toEqual([{ revision: 2, count: 1 }]);
    expect(plan.stop).toEqual([]);
    expect(plan.status).toMatchObject({ replicas: 4, updatedReplicas: 1, availableReplicas: 3 });
    expect(plan.available).toBe(true);
    // Nothing more happens until the new replica is available.
    expect(w.plan()).toMatchObject({ create: [], stop: [] });

    const history: [number, number][] = [];
    for (let i = 0; i < 3; i++) {
      w.settleAgents();
      plan = w.step();
      history.push([plan.stop.length, created(plan, 2)]);
      expect(w.alive().length).toBeLessThanOrEqual(4);
      expect(w.alive().filter((p) => p.ready).length).toBeGreaterThanOrEqual(3);
    }
    // Each round: one old stopped, one new created; the last round only stops.
    expect(history).toEqual([
      [1, 1],
      [1, 1],
      [1, 0],
    ]);
    expect(plan.complete).toBe(false); // the last old replica is still terminating
    w.settleAgents();
    expect(w.plan()).toMatchObject({ create: [], stop: [], complete: true });
    expect(w.count(1)).toBe(0);
    expect(w.count(2)).toBe(3);
  });

  it('10 replicas at 30%/0 surges by 3 and only stops old replicas as new ones become available', () => {
    const w = new World(10, rolling('30%', 0));
    w.seed(1, 10);
    w.currentRevision = 2;
    let plan = w.step();
    expect(plan.create).toEqual([{ revision: 2, count: 3 }]);
    expect(plan.stop).toEqual([]);

    // Two of the three become available: exactly two old ones go, two more new ones come.
    const fresh = w.alive(2);
    w.becomeReady(fresh[0]!);
    w.becomeReady(fresh[1]!);
    plan = w.step();
    expect(plan.stop).toHaveLength(2);
    expect(created(plan, 2)).toBe(2);
    expect(w.alive().length).toBe(13);

    let rounds = 0;
    while (!plan.complete && rounds++ < 20) {
      w.settleAgents();
      plan = w.step();
      expect(w.alive().length).toBeLessThanOrEqual(13);
      expect(w.alive().filter((p) => p.ready).length).toBeGreaterThanOrEqual(10);
    }
    expect(plan.complete).toBe(true);
  });

  it('maxSurge 0 + maxUnavailable 1 stops one old replica and creates its replacement in the same plan', () => {
    const w = new World(3, rolling(0, 1));
    w.seed(1, 3);
    w.currentRevision = 2;
    let plan = w.step();
    expect(plan.stop).toHaveLength(1);
    expect(plan.create).toEqual([{ revision: 2, count: 1 }]);
    expect(plan.status).toMatchObject({ replicas: 3, availableReplicas: 2 });
    expect(plan.available).toBe(true);
    // The replacement is not available yet: nothing else may go.
    expect(w.plan()).toMatchObject({ create: [], stop: [] });
    let rounds = 0;
    while (!plan.complete && rounds++ < 10) {
      w.settleAgents();
      plan = w.step();
      expect(w.alive().length).toBeLessThanOrEqual(3);
    }
    expect(plan.complete).toBe(true);
    expect(rounds).toBe(3);
  });

  it('removes old replicas that serve nothing before available ones', () => {
    // Surge 1, unavailable 2: the two broken old replicas go, then new ones take their places.
    const w = new World(4, rolling(1, 2));
    w.seed(1, 2);
    const broken = w.add(1, 'Failed');
    const starting = w.add(1, 'Starting');
    w.currentRevision = 2;
    const plan = w.step();
    expect(plan.create).toEqual([{ revision: 2, count: 3 }]);
    expect(plan.stop.sort()).toEqual([broken.id, starting.id].sort());
    expect(plan.status.availableReplicas).toBe(2);
  });

  it('does not take old replicas away on the strength of new ones that are not available', () => {
    const w = new World(4, rolling(2, 1));
    w.seed(1, 4);
    w.currentRevision = 2;
    const first = w.step();
    // Surge 2 new; one old may go (unavailable 1), then its slot is refilled by a new one.
    expect(first.stop).toHaveLength(1);
    expect(created(first, 2)).toBe(3);
    expect(w.plan()).toMatchObject({ create: [], stop: [] });
  });

  it('scales down an oversized current revision once nothing old is left', () => {
    const w = new World(3, rolling('25%', '25%'));
    w.seed(2, 5);
    w.currentRevision = 2;
    const plan = w.plan();
    expect(plan.stop).toHaveLength(2);
    // Surplus replicas of the current revision going away do not hold completion back.
    expect(plan.complete).toBe(true);
  });

  it('rolls back to an older revision whose replicas still exist, reusing them', () => {
    const w = new World(3, rolling('25%', '25%'));
    w.seed(1, 3);
    w.currentRevision = 2;
    w.step(); // +1 new
    const firstNew = w.alive(2)[0]!;
    w.becomeReady(firstNew);
    w.step(); // -1 old, +1 new
    expect(w.count(1)).toBe(2);
    expect(w.count(2)).toBe(2);

    // The new image is bad: back to revision 1, whose two replicas are still serving.
    w.currentRevision = 1;
    let plan = w.step();
    // 4 alive (3 + surge 1): the not-yet-available revision 2 replica goes, revision 1 grows.
    const unready = w.pods.find((p) => p.revision === 2 && !p.ready)!;
    expect(plan.stop).toContain(unready.id);
    expect(created(plan, 1)).toBe(1);
    expect(created(plan, 2)).toBe(0);
    let rounds = 0;
    while (!plan.complete && rounds++ < 10) {
      w.settleAgents();
      plan = w.step();
    }
    expect(plan.complete).toBe(true);
    expect(w.count(1)).toBe(3);
    expect(w.count(2)).toBe(0);
  });
});

describe('planRollout: Recreate', () => {
  it('stops every old replica and creates new ones only when no old row is left', () => {
    const w = new World(3, recreate);
    const old = w.seed(1, 3);
    w.currentRevision = 2;
    let plan = w.step();
    expect(plan.stop.sort()).toEqual(old.map((p) => p.id).sort());
    expect(plan.create).toEqual([]);
    expect(plan.available).toBe(false);
    // Told to stop is not enough: they must be gone.
    expect(w.plan()).toMatchObject({ create: [], stop: [] });
    w.pods = w.pods.filter((p) => p !== old[0] && p !== old[1]);
    expect(w.plan().create).toEqual([]);
    w.pods = w.pods.filter((p) => p !== old[2]);
    plan = w.step();
    expect(plan.create).toEqual([{ revision: 2, count: 3 }]);
    w.settleAgents();
    expect(w.plan()).toMatchObject({ complete: true, available: true });
  });

  it('waits for an old replica on a lost node, telling it to stop', () => {
    const w = new World(2, recreate);
    const [a, b] = w.seed(1, 2);
    b!.phase = 'Lost';
    w.currentRevision = 2;
    const plan = w.step();
    expect(plan.stop.sort()).toEqual([a!.id, b!.id].sort());
    expect(plan.create).toEqual([]);
    w.pods = w.pods.filter((p) => p !== a);
    expect(w.plan().create).toEqual([]);
  });
});

describe('planRollout: scaling during a rollout', () => {
  // A rollout stuck on a new revision that never becomes available: 25%/25% of 10 is
  // surge 3, unavailable 2, so 8 old remain and the new revision holds the other 5 of 13.
  const stuck = (trackPrevious: boolean) => {
    const w = new World(10, rolling('25%', '25%'), { trackPrevious });
    w.seed(1, 10);
    w.currentRevision = 2;
    for (let i = 0; i < 5; i++) {
      w.step();
      for (const p of w.alive(2)) w.place(p);
      w.pods = w.pods.filter((p) => p.desired === 'running');
    }
    expect(w.count(1)).toBe(8);
    expect(w.count(2)).toBe(5);
    return w;
  };

  it('10 → 20 spreads the increase over both revisions in proportion to their sizes', () => {
    const w = stuck(true);
    w.replicas = 20;
    const plan = w.step();
    // 20 + surge 5 = 25 allowed, 12 to add: revision 1 gets round(8·25/13) − 8 = 7, revision 2 the other 5.
    expect(plan.create).toEqual([
      { revision: 2, count: 5 },
      { revision: 1, count: 7 },
    ]);
    expect(plan.stop).toEqual([]);
    expect(w.count(1)).toBe(15);
    expect(w.count(2)).toBe(10);
    expect(w.plan()).toMatchObject({ create: [], stop: [] });
  });

  it('matches the Kubernetes proportional-scaling e2e (10 → 30 with maxSurge 3, maxUnavailable 2)', () => {
    const w = new World(10, rolling(3, 2), { trackPrevious: true });
    w.seed(1, 10);
    w.currentRevision = 2;
    for (let i = 0; i < 5; i++) w.step();
    expect([w.count(1), w.count(2)]).toEqual([8, 5]);
    w.replicas = 30;
    w.step();
    expect([w.count(1), w.count(2)]).toEqual([20, 13]);
  });

  it('without previousReplicas a scale-up mid-rollout goes to the current revision', () => {
    const w = stuck(false);
    w.replicas = 20;
    const plan = w.step();
    expect(plan.create).toEqual([{ revision: 2, count: 12 }]);
    expect(w.count(1)).toBe(8);
  });

  it.each([true, false])(
    '20 → 10 shrinks both revisions proportionally (previousReplicas known: %s)',
    (track) => {
      const w = stuck(track);
      w.replicas = 20;
      w.step();
      for (const p of w.alive()) w.place(p);
      w.replicas = 10;
      const plan = w.step();
      expect(plan.create).toEqual([]);
      // 10 + surge 3 = 13 allowed, and the 8 available old replicas are exactly what 10 − 2 needs.
      expect(w.alive().length).toBe(13);
      expect(plan.status.availableReplicas).toBe(8);
      expect(w.count(2)).toBeGreaterThan(0);
      expect(w.plan()).toMatchObject({ create: [], stop: [] });
    },
  );

  it('shrinking never stops available replicas below the bound, even when proportion asks for it', () => {
    // 10 → 3 with 8 old available and 5 new not available: Kubernetes would keep 2 old + 2 new,
    // leaving 2 available where 3 are required; the planner keeps a third old one and takes the
    // difference from the new replicas that serve nothing yet.
    const w = new World(10, rolling('25%', '25%'));
    w.seed(1, 8);
    for (let i = 0; i < 5; i++) w.add(2, 'Starting');
    w.currentRevision = 2;
    w.replicas = 3;
    const plan = w.step();
    expect(plan.status.availableReplicas).toBe(3);
    expect(w.count(1)).toBe(3);
    expect(w.count(2)).toBe(1);
    expect(w.plan()).toMatchObject({ create: [], stop: [] });
    w.settleAgents();
    let rounds = 0;
    let p = w.step();
    while (!p.complete && rounds++ < 10) {
      w.settleAgents();
      p = w.step();
    }
    expect(p.complete).toBe(true);
  });
});

describe('planRollout: paused', () => {
  it('makes no rollout progress while paused, then resumes', () => {
    const w = new World(4, rolling(1, 0));
    w.seed(1, 4);
    w.currentRevision = 2;
    w.paused = true;
    expect(w.plan()).toMatchObject({ create: [], stop: [], complete: false });
    w.paused = false;
    w.step();
    w.settleAgents();
    w.paused = true;
    // Mid-rollout: the new replica is available, yet no old one goes and no new one comes.
    expect(w.plan()).toMatchObject({ create: [], stop: [] });
  });

  it('still scales while paused: a single revision directly, several proportionally', () => {
    const w = new World(4, rolling(1, 0), { trackPrevious: true });
    w.seed(1, 4);
    w.currentRevision = 2;
    w.paused = true;
    w.replicas = 6;
    expect(w.step().create).toEqual([{ revision: 1, count: 2 }]);

    const v = new World(4, rolling(2, 0), { trackPrevious: true });
    v.seed(1, 4);
    v.currentRevision = 2;
    v.step(); // 2 new
    v.paused = true;
    v.replicas = 8; // allowed 8 + 2 = 10, 6 alive: 4 to add, 3 to old (round(4·10/6) − 4), 1 to new
    const plan = v.step();
    expect(plan.create).toEqual([
      { revision: 2, count: 1 },
      { revision: 1, count: 3 },
    ]);
    expect(plan.stop).toEqual([]);
  });

  it('replaces lost replicas while paused', () => {
    const w = new World(2, rolling(1, 0));
    const [a] = w.seed(1, 2);
    a!.phase = 'Lost';
    w.paused = true;
    const plan = w.plan();
    expect(plan.create).toEqual([{ revision: 1, count: 1 }]);
    expect(plan.stop).toEqual([]);
  });
});

describe('planRollout: minReadySeconds', () => {
  it('counts a ready replica as available only after minReadySeconds, and says when to look again', () => {
    const w = new World(2, rolling(1, 0));
    w.minReadySeconds = 30;
    w.seed(1, 2);
    w.currentRevision = 2;
    w.step();
    const fresh = w.alive(2)[0]!;
    w.now += 5_000;
    w.becomeReady(fresh);
    w.now += 10_000;
    let plan = w.plan();
    expect(plan).toMatchObject({ create: [], stop: [] });
    expect(plan.status).toMatchObject({ readyReplicas: 3, availableReplicas: 2 });
    expect(plan.recheckAt).toBe(fresh.readySince! + 30_000);

    w.now = plan.recheckAt! - 1;
    expect(w.plan().stop).toEqual([]);
    w.now = plan.recheckAt!;
    plan = w.plan();
    expect(plan.stop).toHaveLength(1);
    expect(plan.recheckAt).toBeNull();
  });

  it('reports the earliest of several pending times', () => {
    const w = new World(3, rolling(1, 0));
    w.minReadySeconds = 10;
    const [a, b] = w.seed(1, 2);
    a!.readySince = T0 - 4_000;
    b!.readySince = T0 - 7_000;
    expect(w.plan().recheckAt).toBe(T0 + 3_000);
  });
});

describe('planRollout: lost replicas', () => {
  it('replaces a lost replica and stops it only once the replacement is placed', () => {
    const w = new World(3, rolling('25%', '25%'));
    const [lost] = w.seed(1, 3);
    lost!.phase = 'Lost';
    lost!.ready = false;
    let plan = w.step();
    expect(plan.create).toEqual([{ revision: 1, count: 1 }]);
    expect(plan.stop).toEqual([]);
    // No room anywhere: the replacement stays unplaced, the lost one keeps its orders.
    expect(w.plan()).toMatchObject({ create: [], stop: [] });
    const replacement = w.alive(1).find((p) => p.nodeId === null)!;
    w.place(replacement, 'n2');
    plan = w.step();
    expect(plan.stop).toEqual([lost!.id]);
    expect(plan.create).toEqual([]);
  });

  it('keeps as many lost replicas as there are unplaced replacements', () => {
    const w = new World(4, rolling('25%', '25%'));
    const seeded = w.seed(1, 4);
    for (const p of seeded.slice(0, 3)) p.phase = 'Lost';
    w.step();
    const [r1] = w.alive(1).filter((p) => p.nodeId === null);
    w.place(r1!, 'n2');
    const plan = w.plan();
    expect(plan.stop).toHaveLength(1);
    expect(plan.create).toEqual([]);
  });

  it('stops lost replicas of an old revision with the rest of it', () => {
    const w = new World(2, rolling(1, 0));
    const [a] = w.seed(1, 2);
    a!.phase = 'Lost';
    w.seed(2, 2);
    w.currentRevision = 2;
    const plan = w.plan();
    expect(plan.stop).toContain(a!.id);
    expect(plan.stop).toHaveLength(2);
  });

  it('lets a lost replica that comes back count again, stopping the surplus unplaced one', () => {
    const w = new World(2, rolling(1, 0));
    const [lost] = w.seed(1, 2);
    lost!.phase = 'Lost';
    w.step();
    lost!.phase = 'Running';
    const unplaced = w.alive(1).find((p) => p.nodeId === null)!;
    expect(w.plan().stop).toEqual([unplaced.id]);
  });

  it('does not count a lost replica that was told to stop against completion', () => {
    const w = new World(1, rolling(1, 0));
    const [old] = w.seed(1, 1);
    old!.phase = 'Lost';
    old!.desired = 'stopped';
    w.seed(2, 1);
    w.currentRevision = 2;
    expect(w.plan().complete).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties: random sequences of spec changes, agent events, placements and time.

type Action =
  | { kind: 'scale'; replicas: number }
  | { kind: 'newRevision' }
  | { kind: 'rollback'; pick: number }
  | { kind: 'strategy'; strategy: Strategy }
  | { kind: 'pause'; paused: boolean }
  | { kind: 'minReady'; seconds: number }
  | { kind: 'ready'; pick: number }
  | { kind: 'unready'; pick: number }
  | { kind: 'fail'; pick: number }
  | { kind: 'lose'; pick: number }
  | { kind: 'return'; pick: number }
  | { kind: 'vanish'; pick: number }
  | { kind: 'placeOne'; pick: number }
  | { kind: 'placeAll' }
  | { kind: 'readyAll' }
  | { kind: 'time'; ms: number };

const intOrPercent = fc.oneof(
  fc.integer({ min: 0, max: 4 }),
  fc.constantFrom('0%', '10%', '25%', '30%', '50%', '100%'),
);
const strategyArb: fc.Arbitrary<Strategy> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(intOrPercent, intOrPercent).map(([s, u]) => rolling(s, u)) },
  { weight: 1, arbitrary: fc.constant(recreate) },
);
const pick = fc.nat({ max: 1000 });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.integer({ min: 0, max: 12 }).map((replicas) => ({ kind: 'scale', replicas }) as const),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'newRevision' } as const) },
  { weight: 1, arbitrary: pick.map((p) => ({ kind: 'rollback', pick: p }) as const) },
  { weight: 1, arbitrary: strategyArb.map((strategy) => ({ kind: 'strategy', strategy }) as const) },
  { weight: 1, arbitrary: fc.boolean().map((paused) => ({ kind: 'pause', paused }) as const) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0, 0, 5, 30).map((seconds) => ({ kind: 'minReady', seconds }) as const),
  },
  { weight: 6, arbitrary: pick.map((p) => ({ kind: 'ready', pick: p }) as const) },
  { weight: 1, arbitrary: pick.map((p) => ({ kind: 'unready', pick: p }) as const) },
  { weight: 1, arbitrary: pick.map((p) => ({ kind: 'fail', pick: p }) as const) },
  { weight: 1, arbitrary: pick.map((p) => ({ kind: 'lose', pick: p }) as const) },
  { weight: 1, arbitrary: pick.map((p) => ({ kind: 'return', pick: p }) as const) },
  { weight: 3, arbitrary: pick.map((p) => ({ kind: 'vanish', pick: p }) as const) },
  { weight: 3, arbitrary: pick.map((p) => ({ kind: 'placeOne', pick: p }) as const) },
  { weight: 2, arbitrary: fc.constant({ kind: 'placeAll' } as const) },
  { weight: 2, arbitrary: fc.constant({ kind: 'readyAll' } as const) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(1_000, 5_000, 30_000).map((ms) => ({ kind: 'time', ms }) as const),
  },
);

function pickFrom<T>(items: T[], n: number): T | undefined {
  return items.length === 0 ? undefined : items[n % items.length];
}

function perform(w: World, a: Action): void {
  const running = () => w.pods.filter((p) => p.desired === 'running' && p.phase !== 'Lost');
  switch (a.kind) {
    case 'scale':
      w.replicas = a.replicas;
      return;
    case 'newRevision':
      w.currentRevision = Math.max(w.currentRevision, ...w.pods.map((p) => p.revision)) + 1;
      return;
    case 'rollback': {
      const revs = [...new Set(w.pods.map((p) => p.revision))].filter((r) => r !== w.currentRevision);
      const r = pickFrom(revs, a.pick);
      if (r !== undefined) w.currentRevision = r;
      return;
    }
    case 'strategy':
      w.strategy = a.strategy;
      return;
    case 'pause':
      w.paused = a.paused;
      return;
    case 'minReady':
      w.minReadySeconds = a.seconds;
      return;
    case 'ready': {
      const p = pickFrom(
        running().filter((q) => q.nodeId !== null),
        a.pick,
      );
      if (p) w.becomeReady(p);
      return;
    }
    case 'unready': {
      const p = pickFrom(
        running().filter((q) => q.ready),
        a.pick,
      );
      if (p) {
        p.ready = false;
        p.readySince = null;
      }
      return;
    }
    case 'fail': {
      const p = pickFrom(
        running().filter((q) => q.nodeId !== null),
        a.pick,
      );
      if (p) {
        p.phase = 'Failed';
        p.ready = false;
        p.readySince = null;
      }
      return;
    }
    case 'lose': {
      const p = pickFrom(
        w.pods.filter((q) => q.nodeId !== null && q.phase !== 'Lost'),
        a.pick,
      );
      if (p) p.phase = 'Lost';
      return;
    }
    case 'return': {
      const p = pickFrom(
        w.pods.filter((q) => q.phase === 'Lost'),
        a.pick,
      );
      if (p) p.phase = p.ready ? 'Running' : 'Starting';
      return;
    }
    case 'vanish': {
      const p = pickFrom(
        w.pods.filter((q) => q.desired === 'stopped'),
        a.pick,
      );
      if (p) w.pods = w.pods.filter((q) => q !== p);
      return;
    }
    case 'placeOne': {
      const p = pickFrom(
        w.pods.filter((q) => q.nodeId === null && q.desired === 'running'),
        a.pick,
      );
      if (p) w.place(p, `n${a.pick % 3}`);
      return;
    }
    case 'placeAll':
      for (const p of running()) w.place(p);
      return;
    case 'readyAll':
      for (const p of running()) w.becomeReady(p);
      return;
    case 'time':
      w.now += a.ms;
      return;
  }
}

function isAvailable(p: PlannerReplica, input: PlannerInput): boolean {
  return (
    p.desired === 'running' &&
    p.phase !== 'Lost' &&
    p.ready &&
    p.readySince !== null &&
    input.now - p.readySince >= input.minReadySeconds * 1000
  );
}

/** Plans once and checks everything a single plan promises; returns the plan. */
function checkedStep(w: World): Plan {
  const input = w.input();
  const plan = planRollout(input);
  const { maxSurge, maxUnavailable } = rollingBounds(input.replicas, input.strategy);
  const byId = new Map(input.pods.map((p) => [p.id, p]));
  const alive = (pods: PlannerReplica[]) => pods.filter((p) => p.desired === 'running' && p.phase !== 'Lost');

  // Stops name existing replicas that are not stopped yet, each once.
  expect(new Set(plan.stop).size).toBe(plan.stop.length);
  for (const id of plan.stop) expect(byId.get(id)?.desired).toBe('running');
  for (const c of plan.create) expect(c.count).toBeGreaterThan(0);
  expect(new Set(plan.create.map((c) => c.revision)).size).toBe(plan.create.length);

  const stop = new Set(plan.stop);
  const after = input.pods.map((p) => (stop.has(p.id) ? { ...p, desired: 'stopped' as const } : p));
  const createdCount = plan.create.reduce((n, c) => n + c.count, 0);
  const aliveBefore = alive(input.pods).length;
  const aliveAfter = alive(after).length + createdCount;
  const availableBefore = input.pods.filter((p) => isAvailable(p, input)).length;
  const availableAfter = after.filter((p) => isAvailable(p, input)).length;

  if (input.strategy.type === 'RollingUpdate') {
    // The create set never takes the total above replicas + maxSurge...
    if (createdCount > 0) expect(aliveAfter).toBeLessThanOrEqual(input.replicas + maxSurge);
    expect(aliveAfter).toBeLessThanOrEqual(Math.max(aliveBefore, input.replicas + maxSurge));
    // ...and the stop set never takes availability below replicas - maxUnavailable (nor lower
    // still when agent events already did).
    expect(availableAfter).toBeGreaterThanOrEqual(Math.min(availableBefore, input.replicas - maxUnavailable));
  } else if (!input.paused) {
    // Recreate: the new revision starts only once every old replica is gone. (It may still be
    // scaled while old ones go away if it was already running, after a switch of strategy.)
    const currentWasAlive = alive(input.pods).some((p) => p.revision === input.currentRevision);
    if (plan.create.some((c) => c.revision === input.currentRevision) && !currentWasAlive)
      expect(input.pods.every((p) => p.revision === input.currentRevision)).toBe(true);
    expect(alive(after).every((p) => p.revision === input.currentRevision)).toBe(true);
  }
  // Older revisions only grow by scaling: while paused, or when spec.replicas just changed.
  if (!input.paused && (input.previousReplicas ?? input.replicas) === input.replicas) {
    for (const c of plan.create) expect(c.revision).toBe(input.currentRevision);
  }

  // Status describes the state after the plan.
  const currentAfter = alive(after).filter((p) => p.revision === input.currentRevision).length;
  expect(plan.status).toEqual({
    replicas: aliveAfter,
    updatedReplicas: currentAfter + created(plan, input.currentRevision),
    readyReplicas: alive(after).filter((p) => p.ready).length,
    availableReplicas: availableAfter,
    unavailableReplicas: Math.max(0, aliveAfter - availableAfter),
  });
  expect(plan.available).toBe(availableAfter >= input.replicas - maxUnavailable);
  if (plan.complete) {
    expect(
      after.some(
        (p) => p.revision !== input.currentRevision && p.phase !== 'Lost' && p.desired === 'stopped',
      ),
    ).toBe(false);
    expect(plan.status.updatedReplicas).toBe(input.replicas);
    expect(aliveAfter).toBe(input.replicas);
    expect(availableAfter).toBe(input.replicas);
  }
  if (plan.recheckAt !== null) expect(plan.recheckAt).toBeGreaterThan(input.now);

  w.apply(plan);
  // Level-triggered: planning again on what the plan produced changes nothing.
  const again = planRollout(w.input());
  expect(again.create).toEqual([]);
  expect(again.stop).toEqual([]);
  return plan;
}

describe('planRollout: properties', () => {
  const run = (trackPrevious: boolean) =>
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        strategyArb,
        fc.array(actionArb, { maxLength: 60 }),
        (replicas, strategy, actions) => {
          const w = new World(replicas, strategy, { trackPrevious });
          checkedStep(w);
          for (const a of actions) {
            perform(w, a);
            checkedStep(w);
          }

          // Liveness: once the spec stops changing and every replica that is asked for gets
          // placed, becomes ready and stays ready long enough, the rollout completes.
          w.paused = false;
          let plan = checkedStep(w);
          for (let round = 0; round < 40 && !plan.complete; round++) {
            w.settleAgents();
            w.now += w.minReadySeconds * 1000;
            plan = checkedStep(w);
          }
          expect(plan.complete).toBe(true);
          expect(w.alive().every((p) => p.revision === w.currentRevision)).toBe(true);
          expect(w.alive()).toHaveLength(w.replicas);
        },
      ),
      { numRuns: 400 },
    );

  it('holds every invariant over random histories (previousReplicas tracked)', () => run(true));
  it('holds every invariant over random histories (previousReplicas omitted)', () => run(false));
});
