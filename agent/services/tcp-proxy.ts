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
    this.tryNext(client, clientIp, affinity, order, 0);
  }

  private tryNext(
    client: Socket,
    clientIp: string,
    affinity: number | undefined,
    order: Target[],
    i: number,
  ): void {
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
      this.tryNext(client, clientIp, affinity, order, i + 1);
    };
    upstream.once('error', failed);
    upstream.once('connect', () => {
      clearTimeout(timer);
      upstream.off('error', failed);
      this.timeout.observe(performance.now() - t0);
      this.o.picker.connected(target.key, clientIp, affinity);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
