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
  metrics?: Metrics;
}
