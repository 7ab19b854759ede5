import type { Logger } from '../../common/logger.ts';
import type { Database } from '../../db/database.ts';
import type { ControlPlaneConfig } from '../config.ts';
import type { Metrics } from '../metrics.ts';

/** What the controller needs of its runtime. */
export interface ControllerDeps {
  db: Database;
  config: ControlPlaneConfig;
  log: Logger;
  now: () => Date;
  publishAssignments?: (nodeIds: string[]) => Promise<void>;
  /** How often the safety-net tick runs, in seconds (Workers: the minute cron); default BERTH_RECONCILE_INTERVAL_MS. */
  tickSeconds?: number;
  metrics?: Metrics;
}
