import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { nodes } from '../../db/schema/index.ts';
import { sweepNodes } from '../../workers/controller/node-sweep.ts';
import { ADMIN_TOKEN, startTestPlane, type TestPlane } from '../support/plane.ts';
import { startSimAgents } from '../support/sim-agents.ts';

/**
 * A control plane that was away (or its database) heard no agent meanwhile: when it sweeps again,
 * the nodes' silence counts only from then, so they are not all marked NotReady at once (which
 * would drop every endpoint of the cluster until their next heartbeats).
 */
describe('node sweep after the control plane was away', () => {
  let t: TestPlane;
  beforeAll(async () => {
    t = await startTestPlane('pglite', { BERTH_NODE_GRACE_SECONDS: '2' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('judges a silent node only once the sweep has run for the grace period again', async () => {
    const fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'gap',
    });
    const name = fleet.agents[0]!.name;
    await fleet.stop();
    const t0 = Date.now();
    const sweepAt = async (seconds: number) => {
      const deps = { ...t.plane.deps, now: () => new Date(t0 + seconds * 1000), log: createLogger('silent') };
      await sweepNodes({ ...deps, tickSeconds: 2 });
      const [node] = await t.plane.deps.db.select().from(nodes).where(eq(nodes.name, name));
      return node!.status;
    };
    expect(await sweepAt(1)).toBe('Ready');
    // 40 s without a sweep: the control plane was away. The node's last heartbeat is 40 s old.
    expect(await sweepAt(40)).toBe('Ready');
    expect(await sweepAt(41)).toBe('Ready');
    // Two seconds (the grace period) of sweeping again, and still silent: now it is NotReady.
    expect(await sweepAt(42.5)).toBe('NotReady');
  });
});
