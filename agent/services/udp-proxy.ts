import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../log.ts';
import { sendQuietly } from './dns-server.ts';
import type { EndpointPicker, Target } from './endpoint-picker.ts';

/**
 * A UDP listener of one service port: per client address a session socket connected to one
 * endpoint; the endpoint's datagrams go back from the listener, so the client sees the address it
 * sent to (conntrack undoes the REDIRECT). A session idle for IDLE_MS is closed; an endpoint that
 * answers with an ICMP refusal is passed over and the session moved on at the next datagram.
 */

export const UDP_IDLE_MS = 30_000;

export interface UdpProxyOptions {
  host: string;
  port: number;
  targets: () => readonly Target[];
  picker: EndpointPicker;
  affinitySeconds: () => number | undefined;
  log: Logger;
  idleMs?: number;
}

interface Session {
  socket: Socket;
  target: Target;
  idle: NodeJS.Timeout;
  /** Datagrams that came before the session socket was connected; undefined once it is. */
  queued: Buffer[] | undefined;
}

export class UdpProxy {
  private readonly socket = createSocket('udp4');
  private readonly sessions = new Map<string, Session>();
  private boundPort = 0;

  constructor(private readonly o: UdpProxyOptions) {
    this.socket.on('message', (msg, rinfo) => this.forward(msg, rinfo.address, rinfo.port));
  }

  get port(): number {
    return this.boundPort;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: this.o.host, port: this.o.port, exclusive: true }, () => {
        this.socket.off('error', reject);
        this.socket.on('error', (e) => this.o.log.warn('service listener failed', { error: e.message }));
        this.boundPort = this.socket.address().port;
        resolve(this.boundPort);
      });
    });
  }

  close(): void {
    for (const s of this.sessions.values()) this.end(s);
    this.sessions.clear();
    this.socket.close();
  }

  private forward(msg: Buffer, address: string, port: number): void {
    const key = `${address}:${port}`;
    let session = this.sessions.get(key);
    if (!session) {
      const affinity = this.o.affinitySeconds();
      const target = this.o.picker.order(this.o.targets(), address, affinity)[0];
      if (!target) return;
      this.o.picker.connected(target.key, address, affinity);
      const socket = createSocket('udp4');
      const s: Session = { socket, target, idle: setTimeout(() => {}, 0), queued: [] };
      session = s;
      this.sessions.set(key, s);
      socket.on('message', (reply) => {
        this.touch(key, s);
        sendQuietly(this.socket, reply, port, address);
      });
      socket.on('error', () => {
        // ECONNREFUSED from an ICMP port unreachable: that endpoint is not there.
        this.o.picker.refused(target.key);
        if (this.sessions.get(key) === s) this.sessions.delete(key);
        this.end(s);
      });
      socket.connect(target.port, target.host, () => {
        for (const m of s.queued ?? []) socket.send(m);
        s.queued = undefined;
      });
    }
    this.touch(key, session);
    if (session.queued) {
      // Bounded: a client that floods before the connect completes loses the excess, as UDP may.
      if (session.queued.length < 64) session.queued.push(msg);
    } else {
      try {
        session.socket.send(msg);
      } catch {
        // The session closed under it (an ICMP refusal): the next datagram makes a new one.
      }
    }
  }

  private touch(key: string, s: Session): void {
    clearTimeout(s.idle);
    s.idle = setTimeout(() => {
      if (this.sessions.get(key) === s) this.sessions.delete(key);
      this.end(s);
    }, this.o.idleMs ?? UDP_IDLE_MS);
    s.idle.unref();
  }

  private end(s: Session): void {
    clearTimeout(s.idle);
    try {
      s.socket.close();
    } catch {
      // Closed already.
    }
  }
}
