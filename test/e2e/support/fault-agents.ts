import type { SimAgent } from '../../support/sim-agents.ts';
import type { Query } from './fault-invariants.ts';

/**
 * What simulated agents were told, checked against the database: every replica desired running
 * is running on exactly the agent of its node, and no agent runs anything else. This is the
 * "no replica duplicated" check: a duplicate would be an id on two agents or more running
 * assignments than rows.
 */
export async function agentProblems(query: Query, agents: SimAgent[]): Promise<string[]> {
  const rows = await query<{ id: string; node: string | null }>(`
    select r.id, n.name as node from replicas r left join nodes n on n.id = r.node_id
    where r.desired = 'running'`);
  const want = new Map(rows.map((r) => [r.id, r.node]));
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const agent of agents) {
    for (const a of agent.running()) {
      const other = seen.get(a.id);
      if (other) problems.push(`${a.id} runs on ${other} and ${agent.name}`);
      seen.set(a.id, agent.name);
      if (!want.has(a.id)) problems.push(`${agent.name} runs ${a.id}, which is not desired running`);
      else if (want.get(a.id) !== agent.name)
        problems.push(`${agent.name} runs ${a.id}, which is placed on ${want.get(a.id)}`);
    }
  }
  for (const [id, node] of want) if (!seen.has(id)) problems.push(`${id} (on ${node}) runs nowhere`);
  return problems;
}
