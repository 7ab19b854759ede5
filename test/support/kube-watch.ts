/**
 * Reads a Kubernetes watch stream (newline-delimited `{"type","object"}` events) from a fetch
 * Response: events arrive as they come; `next` waits for one with a deadline.
 */
export interface WatchEventJson {
  type: string;
  object: any;
}

export class WatchReader {
  readonly events: WatchEventJson[] = [];
  ended = false;
  private buffer = '';
  private waiters: (() => void)[] = [];
  private taken = 0;
  private readonly done: Promise<void>;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(readonly response: Response) {
    this.reader = response.body!.getReader();
    this.done = this.pump();
  }

  private async pump() {
    const reader = this.reader;
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
          const line = this.buffer.slice(0, i).trim();
          this.buffer = this.buffer.slice(i + 1);
          if (line) this.events.push(JSON.parse(line));
        }
        this.wakeAll();
      }
    } catch {
      // cancelled
    } finally {
      this.ended = true;
      this.wakeAll();
    }
  }

  private wakeAll() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The next event not yet taken, waiting up to `ms`; undefined if the stream ended first. */
  async next(ms = 10_000): Promise<WatchEventJson | undefined> {
    const deadline = Date.now() + ms;
    while (this.taken >= this.events.length) {
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no watch event within ${ms} ms (had: ${JSON.stringify(this.events.map((e) => e.type))})`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.events[this.taken++];
  }

  /** Events taken until one satisfies `pred` (which is taken too). */
  async until(pred: (e: WatchEventJson) => boolean, ms = 10_000): Promise<WatchEventJson> {
    const deadline = Date.now() + ms;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (!e) throw new Error('the watch ended before the event came');
      if (pred(e)) return e;
    }
  }

  async end(): Promise<void> {
    await this.reader.cancel().catch(() => {});
    await this.done;
  }

  async closed(ms: number): Promise<void> {
    await Promise.race([
      this.done,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`the watch did not end within ${ms} ms`)), ms),
      ),
    ]);
  }
}
