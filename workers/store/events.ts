import type { Database } from '../../db/database.ts';
import { events } from '../../db/schema/index.ts';

/** What the controller and the verbs decided, and why: events are how users see it. */
export interface EventInput {
  namespace: string;
  objectKind: string;
  objectName: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export async function recordEvents(db: Database, list: EventInput[], now: Date): Promise<void> {
  if (list.length === 0) return;
  await db.insert(events).values(list.map((e) => ({ ...e, createdAt: now })));
}
