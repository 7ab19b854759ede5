import { request } from 'node:http';

export interface LoopResult {
  total: number;
  failed: number;
  /** Failure reasons with counts, e.g. {"503": 2, "ECONNRESET": 1}. */
  reasons: Record<string, number>;
  /** Answers by body (v1/v2), to see the switch happen. */
  bodies: Record<string, number>;
}

/**
 * A steady client during a rolling update: one request every `everyMs` (a fresh connection
 * each, so a load balancer may pick another backend every time), each allowed `timeoutMs`.
 * A request fails on a connection error, a timeout or a status other than 200.
 */
export function startRequestLoop(target: {
  /** A fixed port, or a chooser (client-side load balancing); undefined: no endpoint to try. */
  port: number | (() => number | undefined);
  host?: string;
  path?: string;
  everyMs?: number;
  timeoutMs?: number;
}): { stop: () => Promise<LoopResult> } {
  const result: LoopResult = { total: 0, failed: 0, reasons: {}, bodies: {} };
  const every = target.everyMs ?? 20;
  const inflight = new Set<Promise<void>>();
  const fail = (why: string) => {
    result.failed++;
    result.reasons[why] = (result.reasons[why] ?? 0) + 1;
  };
  const once = () =>
    new Promise<void>((resolve) => {
      result.total++;
      const port = typeof target.port === 'number' ? target.port : target.port();
      if (port === undefined) {
        fail('no endpoint');
        return resolve();
      }
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: target.path ?? '/',
          agent: false,
          timeout: target.timeoutMs ?? 3000,
          headers: target.host ? { host: target.host } : {},
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => {
            if (res.statusCode === 200) {
              const key = body.trim().slice(0, 8);
              result.bodies[key] = (result.bodies[key] ?? 0) + 1;
            } else fail(String(res.statusCode));
            resolve();
          });
          res.on('error', (e: NodeJS.ErrnoException) => {
            fail(e.code ?? 'response error');
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => {
        fail(e.code ?? e.message);
        resolve();
      });
      req.end();
    });
  const timer = setInterval(() => {
    const p = once().finally(() => inflight.delete(p));
    inflight.add(p);
  }, every);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inflight]);
      return result;
    },
  };
}

/**
 * Client-side round robin over endpoints that `discover` lists (re-read every `everyMs`), as a
 * client without a load balancer in front would do it.
 */
export function roundRobin(
  discover: () => Promise<number[]>,
  everyMs = 100,
): { next: () => number | undefined; ready: Promise<void>; stop: () => Promise<void> } {
  let ports: number[] = [];
  let turn = 0;
  let stopped = false;
  let first: () => void = () => {};
  const ready = new Promise<void>((r) => {
    first = r;
  });
  const loop = (async () => {
    while (!stopped) {
      try {
        ports = await discover();
        if (ports.length) first();
      } catch {
        // keep the last list: a failed refresh is not a failed request
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    next: () => (ports.length ? ports[turn++ % ports.length] : undefined),
    ready,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
