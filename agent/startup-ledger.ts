import { errorMessage, type Logger } from './log.ts';
import type { StateStore } from './state-store.ts';

/** What a container runner needs of the ledger. */
export interface StartupRecord {
  /** This container's current start has passed its startup probe. */
  has(containerId: string): boolean;
  mark(containerId: string): void;
  /** The container starts again: that start must pass its own probe. */
  forget(containerId: string): void;
}

/**
 * Which running containers have passed their startup probe, kept in the agent's data dir. A
 * restarted agent adopts its containers; without this it would probe their start again, and on a
 * busy node a probe that times out a few times would kill a container that has served for hours.
 * The kubelet keeps a container's `started` across its own restarts for the same reason. Keyed by
 * container id: a start of the container forgets it (start() in container-runner.ts).
 */
export class StartupLedger implements StartupRecord {
  private constructor(
    private readonly store: StateStore,
    private readonly log: Logger,
    private readonly ids: Set<string>,
  ) {}

  /** An unreadable ledger is an empty one: the cost is a startup probe run again. */
  static async load(store: StateStore, log: Logger): Promise<StartupLedger> {
    let ids: string[] = [];
    try {
      ids = (await store.loadStartedContainers()) ?? [];
    } catch (e) {
      log.warn('ignoring the stored startup ledger', { error: errorMessage(e) });
    }
    return new StartupLedger(store, log, new Set(ids));
  }

  has(containerId: string): boolean {
    return this.ids.has(containerId);
  }

  mark(containerId: string): void {
    if (this.ids.has(containerId)) return;
    this.ids.add(containerId);
    this.save();
  }

  forget(containerId: string): void {
    if (this.ids.delete(containerId)) this.save();
  }

  /** Keeps only the containers still on the engine (the node's full listing). */
  retain(onEngine: Iterable<string>): void {
    const live = new Set(onEngine);
    let changed = false;
    for (const id of this.ids)
      if (!live.has(id)) {
        this.ids.delete(id);
        changed = true;
      }
    if (changed) this.save();
  }

  private save(): void {
    this.store.saveStartedContainers([...this.ids]).catch((e: unknown) => {
      this.log.warn('saving the startup ledger failed', { error: errorMessage(e) });
    });
  }
}
