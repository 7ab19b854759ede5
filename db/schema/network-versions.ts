import { integer, pgTable } from 'drizzle-orm/pg-core';
import { big } from './columns.ts';

/**
 * One row: the version of the cluster's service map (common/agent-protocol.ts ServiceMap). Database
 * triggers bump it whenever what the map is made of changes (a replica's readiness, placement or
 * host ports; a service; a node's status or address; a namespace policy), so no code path can
 * forget to, and a long-poll notices from one small read. The bump runs at commit (deferred), as
 * the transaction's last lock, so it never joins a deadlock between row locks taken earlier.
 */
export const networkVersions = pgTable('network_versions', {
  id: integer('id').primaryKey(),
  version: big('version').notNull(),
});
