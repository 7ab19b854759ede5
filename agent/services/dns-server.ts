import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import * as dns from 'dns-packet';
import type { Logger } from '../log.ts';
import { answerQuestion, type DnsZone } from './dns-answer.ts';

/**
 * The DNS of one namespace's containers, on its bridge's gateway (UDP and TCP): answers cluster
 * names from the zone (dns-answer.ts) and relays every other question, as it came, to the node's
 * resolvers. The listener is the namespace's own, so it knows who asks without looking at
 * addresses.
 */

export interface Upstream {
  host: string;
  port: number;
}

/** The node's resolvers, from /etc/resolv.conf (127.0.0.53 and the like are fine: the agent asks, not the container). */
export function systemUpstreams(path = '/etc/resolv.conf'): Upstream[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // No resolv.conf: the usual local resolver.
  }
  const servers = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  return (servers.length ? servers : ['127.0.0.1'])
    .filter((s) => !s.includes(':'))
    .map((host) => ({ host, port: 53 }));
}

const UPSTREAM_TIMEOUT_MS = 2_000;

/** What a UDP answer may hold: 512 bytes, or what the client's EDNS record offers. */
function udpLimit(query: dns.DecodedPacket): number {
  const opt = query.additionals?.find((a): a is dns.OptAnswer => a.type === 'OPT');
  return Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 4096));
}

/** One question to the upstreams over UDP, in order, each given UPSTREAM_TIMEOUT_MS; undefined: none answered. */
export function askUpstream(
  query: Buffer,
  upstreams: readonly Upstream[],
  i = 0,
): Promise<Buffer | undefined> {
  const upstream = upstreams[i];
  if (!upstream) return Promise.resolve(undefined);
  return new Promise<Buffer | undefined>((resolve) => {
    // A fresh socket per question: a random source port, and no cross-talk between answers.
    const socket = createSocket('udp4');
    const done = (answer: Buffer | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), UPSTREAM_TIMEOUT_MS);
    socket.on('error', () => done(undefined));
    socket.on('message', (msg) => {
      // Only the answer to this question (same id).
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) done(msg);
    });
    socket.send(query, upstream.port, upstream.host);
  }).then((answer) => answer ?? askUpstream(query, upstreams, i + 1));
}

/** The answer to one wire query from `namespace`; undefined: drop it (not a query, or nobody upstream answered). */
export async function respond(
  query: Buffer,
  namespace: string,
  zone: DnsZone,
  upstreams: readonly Upstream[],
  transport: 'udp' | 'tcp' = 'udp',
): Promise<Buffer | undefined> {
  let packet: dns.DecodedPacket;
  try {
    packet = dns.decode(query);
  } catch {
    return undefined;
  }
  const question = packet.questions?.[0];
  if (packet.type !== 'query' || !question) return undefined;
  const decision = answerQuestion(zone, namespace, { name: question.name, type: question.type });
  if (decision.kind === 'forward') return askUpstream(query, upstreams);
  const rd = (packet.flags ?? 0) & dns.RECURSION_DESIRED;
  const flags = dns.AUTHORITATIVE_ANSWER | dns.RECURSION_AVAILABLE | rd;
  if (decision.kind === 'answer') {
    const response: dns.Packet = {
      type: 'response',
      id: packet.id ?? 0,
      flags: flags | (decision.rcode === 'NXDOMAIN' ? 3 : 0),
      questions: [question],
      answers: decision.answers,
      additionals: decision.additionals,
    };
    const out = dns.encode(response);
    if (transport === 'tcp' || out.length <= udpLimit(packet)) return out;
    // Too long for the client's UDP (a headless service with many endpoints): it asks again over TCP.
    return dns.encode({
      ...response,
      flags: response.flags! | dns.TRUNCATED_RESPONSE,
      answers: [],
      additionals: [],
    });
  }
  // ExternalName: the CNAME, and what the node's resolvers say of its target.
  const asked = dns.encode({
    type: 'query',
    id: Math.floor(Math.random() * 65536),
    flags: dns.RECURSION_DESIRED,
    questions: [{ name: decision.target, type: question.type, class: 'IN' }],
  });
  const reply = await askUpstream(asked, upstreams);
  let upstream: dns.DecodedPacket | undefined;
  try {
    upstream = reply ? dns.decode(reply) : undefined;
  } catch {
    upstream = undefined;
  }
  return dns.encode({
    type: 'response',
    id: packet.id ?? 0,
    flags: (flags & ~dns.AUTHORITATIVE_ANSWER) | (upstream ? (upstream.flags ?? 0) & 15 : 2),
    questions: [question],
    answers: [decision.cname, ...(upstream?.answers ?? [])],
  });
}

export interface DnsServerOptions {
  namespace: string;
  host: string;
  zone: () => DnsZone;
  upstreams: () => readonly Upstream[];
  log: Logger;
}

/** UDP and TCP listeners on ephemeral ports of `host`; the nat rules send port 53 to them. */
export class DnsServer {
  private readonly udp: UdpSocket = createSocket('udp4');
  private readonly tcp: Server;
  udpPort = 0;
  tcpPort = 0;

  constructor(private readonly o: DnsServerOptions) {
    this.udp.on('message', (msg, rinfo) => {
      void this.answer(msg).then((out) => {
        if (out) sendQuietly(this.udp, out, rinfo.port, rinfo.address);
      });
    });
    this.tcp = createServer((socket) => this.serveTcp(socket));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.udp.once('error', reject);
      this.udp.bind({ address: this.o.host, port: 0, exclusive: true }, () => {
        this.udp.off('error', reject);
        this.udp.on('error', (e) => this.o.log.warn('DNS listener failed', { error: e.message }));
        resolve();
      });
    });
    this.udpPort = this.udp.address().port;
    await new Promise<void>((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen({ host: this.o.host, port: 0, exclusive: true }, () => {
        this.tcp.off('error', reject);
        resolve();
      });
    });
    const addr = this.tcp.address();
    this.tcpPort = typeof addr === 'object' && addr ? addr.port : 0;
  }

  close(): void {
    this.udp.close();
    this.tcp.close();
  }

  private answer(query: Buffer, transport: 'udp' | 'tcp' = 'udp'): Promise<Buffer | undefined> {
    return respond(query, this.o.namespace, this.o.zone(), this.o.upstreams(), transport).catch(
      (e: unknown) => {
        this.o.log.debug('DNS question not answered', { error: e instanceof Error ? e.message : String(e) });
        return undefined;
      },
    );
  }

  /** DNS over TCP: each message prefixed with its length; several may come on one connection. */
  private serveTcp(socket: Socket): void {
    let buffered = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < len + 2) break;
        const query = buffered.subarray(2, len + 2);
        buffered = buffered.subarray(len + 2);
        void this.answer(Buffer.from(query), 'tcp').then((out) => {
          if (!out || socket.destroyed) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(out.length);
          socket.write(Buffer.concat([prefix, out]));
        });
      }
    });
  }
}

/** A send on a socket closed meanwhile (a bridge gone, the agent stopping) is dropped, as UDP may. */
export function sendQuietly(socket: UdpSocket, msg: Buffer, port: number, address: string): void {
  try {
    socket.send(msg, port, address);
  } catch {
    // Not running any more.
  }
}
