import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.ts';
import type { EndpointPicker, Target } from './endpoint-picker.ts';

/**
 * A TCP listener of one service port: each connection goes to an endpoint the picker chooses,
 * the next one when that refuses or does not answer in time, and is then piped both ways
 * (backpressure from `pipe`, half-close honoured, nothing copied or buffered by the agent).
 * Closing the listener leaves open connections alone.
 */

export interface TcpProxyOptions {
  host: string;
  /** 0: an ephemeral port. */
  port: number;
  /** The endpoints now, asked per connection (the map can change under an open listener). */
  targets: () => readonly Target[];
  picker: EndpointPicker;
  affinitySeconds: () => number | undefined;
  log: Logger;
}

/**
 * How long a connect may take before the next endpoint is tried: ten times the slowest of the
 * recent connects (endpoints are a LAN hop away), within 250 ms to 3 s.
 */
export class ConnectTimeout {
  private recent: number[] = [];
  observe(ms: number): void {
    this.recent.push(ms);
    if (this.recent.length > 32) this.recent.shift();
  }
  get ms(): number {
    const slowest = this.recent.length ? Math.max(...this.recent) : 100;
    return Math.min(3_000, Math.max(250, slowest * 10));
  }
}

export class TcpProxy {
  private readonly server: Server;
  private readonly timeout = new ConnectTimeout();
  private boundPort = 0;

  constructor(private readonly o: TcpProxyOptions) {
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) =>
      this.accept(client),
    );
  }

  get port(): number {
    return this.boundPort;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.o.host, port: this.o.port, exclusive: true }, () => {
        this.server.off('error', reject);
        this.server.on('error', (e) => this.o.log.warn('service listener failed', { error: e.message }));
        const addr = this.server.address();
        this.boundPort = typeof addr === 'object' && addr ? addr.port : 0;
        resolve(this.boundPort);
      });
    });
  }

  /** Stops accepting; connections already piped go on until either side closes them. */
  close(): void {
    this.server.close();
  }

  private accept(client: Socket): void {
    client.setNoDelay(true);
    client.on('error', () => client.destroy());
    const clientIp = client.remoteAddress ?? '';
    const affinity = this.o.affinitySeconds();
    const order = this.o.picker.order(this.o.targets(), clientIp, affinity);
    this.tryNext({ client, clientIp, affinity, order, sent: new SentBytes() }, 0);
  }

  private tryNext(c: Connection, i: number): void {
    const { client, order } = c;
    const target = order[i];
    if (!target || client.destroyed) {
      // No endpoint answered: the client sees the connection reset, as with no listener at all.
      if (!client.destroyed) client.resetAndDestroy();
      return;
    }
    const t0 = performance.now();
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), this.timeout.ms);
    const failed = () => {
      clearTimeout(timer);
      // A late second error of this socket must not go unheard (it would end the process).
      upstream.on('error', () => {});
      upstream.destroy();
      this.o.picker.refused(target.key);
      this.tryNext(c, i + 1);
    };
    upstream.once('error', failed);
    upstream.once('connect', () => {
      clearTimeout(timer);
      upstream.off('error', failed);
      this.timeout.observe(performance.now() - t0);
      this.o.picker.connected(target.key, c.clientIp, c.affinity);
      this.relay(c, upstream, target, i);
    });
  }

  /**
   * Pipe both ways. Until the endpoint sends its first byte, what the client sent is kept (up to
   * EMPTY_RETRY_BYTES): an endpoint that closes without a byte in its first EMPTY_RETRY_MS (a
   * userland port proxy in front of a container that just died accepts, then hangs up) is
   * passed over and the same bytes go to the next one, as a refused connection would. Once the
   * endpoint has said anything, the connection is theirs alone.
   */
  private relay(c: Connection, upstream: Socket, target: Target, i: number): void {
    const { client, sent } = c;
    const connectedAt = performance.now();
    let answered = false;
    const record = (chunk: Buffer) => sent.add(chunk);
    const onEnd = () => sent.end();
    const retry = () => {
      client.unpipe(upstream);
      upstream.destroy();
      this.o.picker.refused(target.key);
      this.tryNext(c, i + 1);
    };
    const mayRetry = () =>
      !answered &&
      !sent.overflowed &&
      !client.destroyed &&
      i + 1 < c.order.length &&
      performance.now() - connectedAt < EMPTY_RETRY_MS;
    upstream.once('data', () => {
      answered = true;
      client.off('data', record);
      client.off('end', onEnd);
      sent.clear();
    });
    upstream.on('error', () => {
      if (!mayRetry()) client.destroy();
    });
    upstream.once('close', (hadError) => {
      if (mayRetry()) retry();
      // What the endpoint sent is flushed to the client before its socket goes.
      else if (!hadError) client.end(() => client.destroy());
      else client.destroy();
    });
    client.once('close', () => upstream.destroy());
    // An endpoint tried before this one already has the client's bytes so far: send them again.
    for (const chunk of sent.chunks) upstream.write(chunk);
    if (sent.ended) upstream.end();
    else {
      client.on('data', record);
      client.once('end', onEnd);
      client.pipe(upstream);
    }
    upstream.pipe(client, { end: false });
    upstream.once('end', () => {
      // Half-close passed on only once the endpoint has answered (else the close may be retried).
      if (answered || !mayRetry()) client.end();
    });
    client.resume();
  }
}

/** How long after connecting an endpoint's silent hang-up still counts as "did not take it". */
const EMPTY_RETRY_MS = 1_000;
/** How much of what a client sends before the first answer is kept for a retry. */
const EMPTY_RETRY_BYTES = 64 * 1024;

interface Connection {
  client: Socket;
  clientIp: string;
  affinity: number | undefined;
  order: Target[];
  sent: SentBytes;
}

/** What the client sent before any endpoint answered, while it fits. */
class SentBytes {
  chunks: Buffer[] = [];
  size = 0;
  overflowed = false;
  ended = false;

  add(chunk: Buffer): void {
    if (this.overflowed) return;
    this.size += chunk.length;
    if (this.size > EMPTY_RETRY_BYTES) {
      this.overflowed = true;
      this.chunks = [];
    } else this.chunks.push(chunk);
  }

  end(): void {
    this.ended = true;
  }

  clear(): void {
    this.chunks = [];
    this.overflowed = true;
  }
}
