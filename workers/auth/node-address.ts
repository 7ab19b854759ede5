import {
  type Cidr,
  cidrContains,
  cidrWithin,
  formatIp,
  parseCidr,
  parseIp,
} from '../../common/ip-address.ts';

/**
 * Where the control plane may be told to connect. A node's address is where the ingress (and
 * `endpoints`) send traffic: `address:hostPort`. An agent that could report any host name or a
 * link-local address could point the control plane at the cloud metadata service
 * (169.254.169.254) or at anything its network reaches; so the address is an IP literal, and
 * these ranges are refused unless BERTH_NODE_ADDRESS_CIDRS names them.
 */
const REFUSED: { cidr: Cidr; why: string }[] = (
  [
    ['0.0.0.0/8', 'is not a host address (0.0.0.0 reaches the control plane itself)'],
    ['::/128', 'is not a host address (:: reaches the control plane itself)'],
    ['169.254.0.0/16', 'is link-local, where cloud metadata services answer (169.254.169.254)'],
    ['fe80::/10', 'is IPv6 link-local'],
    ['fd00:ec2::254/128', 'is the AWS metadata service (IPv6)'],
    ['100.100.100.200/32', 'is the Alibaba Cloud metadata service'],
    ['224.0.0.0/4', 'is multicast'],
    ['ff00::/8', 'is multicast'],
    ['240.0.0.0/4', 'is reserved or broadcast'],
  ] as const
).map(([text, why]) => ({ cidr: parseCidr(text)!, why }));

/**
 * The canonical form of a node's reported address, or why it is refused. With `allowed`
 * empty, any IP but the refused ranges (loopback included: `npm start`'s own agent registers
 * as 127.0.0.1). With `allowed` set, the address must fall in one of its blocks; a refused
 * range opens only to a block inside it (169.254.0.0/16 opens link-local, 0.0.0.0/0 does not).
 */
export function checkNodeAddress(
  address: string,
  allowed: readonly Cidr[],
): { ok: true; address: string } | { ok: false; message: string } {
  const ip = parseIp(address);
  if (!ip) return { ok: false, message: 'must be an IP address (IPv4 or IPv6), not a host name' };
  const canonical = formatIp(ip);
  const listed = allowed.filter((c) => cidrContains(c, ip));
  if (allowed.length > 0 && listed.length === 0) {
    return {
      ok: false,
      message: `${canonical} is outside the node address ranges this control plane accepts (${allowed.map((c) => c.text).join(', ')})`,
    };
  }
  const refused = REFUSED.find((r) => cidrContains(r.cidr, ip));
  if (refused && !listed.some((c) => cidrWithin(c, refused.cidr))) {
    return {
      ok: false,
      message: `${canonical} ${refused.why}; the control plane accepts it only when BERTH_NODE_ADDRESS_CIDRS lists a range inside ${refused.cidr.text}`,
    };
  }
  return { ok: true, address: canonical };
}

/** BERTH_NODE_ADDRESS_CIDRS: comma-separated blocks; the entries that do not parse, by text. */
export function parseCidrList(text: string): { cidrs: Cidr[]; bad: string[] } {
  const cidrs: Cidr[] = [];
  const bad: string[] = [];
  for (const part of text.split(',')) {
    const t = part.trim();
    if (!t) continue;
    const c = parseCidr(t);
    if (c) cidrs.push(c);
    else bad.push(t);
  }
  return { cidrs, bad };
}
