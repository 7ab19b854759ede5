import {
  type Cidr,
  cidrContains,
  formatIp,
  type IpAddress,
  parseCidr,
  parseIp,
} from '../../common/ip-address.ts';

/**
 * Who is calling, as far as the control plane can tell: the address of the connection (the
 * runtime's peer; on Workers the platform's CF-Connecting-IP), and, only when that peer is one
 * of the operator's trusted proxies (BERTH_TRUSTED_PROXIES), what those proxies wrote into
 * X-Forwarded-For. Anyone can write that header; only a hop the operator trusts is believed.
 *
 * Pure and free of `node:` modules: the same code runs on Node, Deno and Workers.
 */

export type TrustedProxies = readonly Cidr[];

export interface ResolvedClient {
  /** The client's address in canonical form, or undefined when the runtime does not know it. */
  address: string | undefined;
  /**
   * X-Forwarded-For for an upstream: the client, the trusted proxies between it and us (as they
   * reported them), then our own peer. Nothing the client wrote itself survives.
   */
  forwardedFor: string[];
}

/**
 * Parse a comma-separated list of IPs and CIDR blocks. Throws naming the offending entry: the
 * configuration is refused at start rather than trusting something other than what was meant.
 */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  const blocks: Cidr[] = [];
  for (const entry of (value ?? '').split(',').map((e) => e.trim())) {
    if (!entry) continue;
    const cidr = parseCidr(entry);
    if (!cidr) throw new Error(`"${entry}" is not an IP address or CIDR block (like 10.0.0.0/8 or fd00::/8)`);
    blocks.push(cidr);
  }
  return blocks;
}

/**
 * The client behind `peer`: `peer` itself unless it is trusted; then X-Forwarded-For is walked
 * from the right (the hop nearest to us first), past every trusted hop, to the first address
 * that is not trusted: that is the client. An entry that is not an address ends the walk at
 * the trusted hop that reported it.
 */
export function resolveClient(
  peer: string | undefined,
  forwardedFor: string | null | undefined,
  trusted: TrustedProxies,
): ResolvedClient {
  const peerIp = peer === undefined ? null : readAddress(peer);
  if (!peerIp) return { address: peer || undefined, forwardedFor: peer ? [peer] : [] };
  const peerText = formatIp(peerIp);
  if (!forwardedFor || !isTrusted(peerIp, trusted)) return { address: peerText, forwardedFor: [peerText] };
  const hops = forwardedFor.split(',');
  const chain: string[] = [];
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = readAddress(hops[i]!, true);
    if (!ip) break;
    chain.unshift(formatIp(ip));
    if (!isTrusted(ip, trusted)) break;
  }
  return { address: chain[0] ?? peerText, forwardedFor: [...chain, peerText] };
}

const isTrusted = (ip: IpAddress, trusted: TrustedProxies) => trusted.some((c) => cidrContains(c, ip));

/**
 * An address as runtimes and proxies write it: a zone id is dropped (`fe80::1%eth0`), and with
 * `withPort` so is a port (`1.2.3.4:5678`, `[2001:db8::1]:443`), which some proxies append.
 */
function readAddress(text: string, withPort = false): IpAddress | null {
  let s = text.trim();
  if (withPort) {
    const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
    if (bracketed) s = bracketed[1]!;
    else if (/^[\d.]+:\d{1,5}$/.test(s)) s = s.slice(0, s.indexOf(':'));
  }
  const zone = s.indexOf('%');
  return parseIp(zone >= 0 ? s.slice(0, zone) : s);
}
