/**
 * In-process wake-ups for long-polling agents. Correctness never depends on them (a poll
 * re-reads the database when it wakes or times out); they only make changes arrive at once.
 * Across processes the Node entry bridges them with Postgres LISTEN/NOTIFY.
 */
export class NodeSignals {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves on a notify for this node, on timeout, or when `abort` fires. */
  wait(nodeId: string, timeoutMs: number, abort?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(nodeId) ?? new Set<() => void>();
      this.waiters.set(nodeId, set);
      const done = () => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(nodeId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      abort?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /** Wake the waiters of these nodes; '*' wakes everyone (e.g. after a missed-notification gap). */
  notify(nodeIds: Iterable<string>): void {
    for (const id of nodeIds) {
      if (id === '*') {
        for (const set of [...this.waiters.values()]) for (const w of [...set]) w();
        return;
      }
      const set = this.waiters.get(id);
      if (set) for (const w of [...set]) w();
    }
  }

  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
