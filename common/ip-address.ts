/**
 * IP literals and CIDR blocks, without `node:net` (the control plane also runs on Workers).
 * Every address is held as 16 bytes: IPv4 as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so
 * one comparison covers both families and `::ffff:169.254.169.254` is the same address as
 * `169.254.169.254` for every rule that looks at it.
 */
export interface IpAddress {
  readonly bytes: Uint8Array;
  /** 4 when the address is IPv4 or IPv4-mapped IPv6. */
  readonly version: 4 | 6;
}

export interface Cidr {
  readonly network: Uint8Array;
  /** Prefix length over the 16 bytes (an IPv4 /8 is 104 here). */
  readonly bits: number;
  /** As written in the configuration, for messages. */
  readonly text: string;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    // No leading zeros: "010" is octal to some resolvers and decimal to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

function parseIpv6(text: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push(v4[0]!, v4[1]!, v4[2]!, v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      const n = Number.parseInt(p, 16);
      out.push(n >> 8, n & 0xff);
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 16 ? head : null;
  // "::" stands for at least one group of zeros.
  if (head.length + tail.length > 14) return null;
  return [...head, ...new Array(16 - head.length - tail.length).fill(0), ...tail];
}

/** An IPv4 or IPv6 literal (no brackets, no zone, no port), or null. */
export function parseIp(text: string): IpAddress | null {
  if (text.length === 0 || text.length > 45) return null;
  const v4 = parseIpv4(text);
  if (v4) return { bytes: Uint8Array.from([...MAPPED_PREFIX, ...v4]), version: 4 };
  const v6 = parseIpv6(text);
  if (!v6) return null;
  const mapped = MAPPED_PREFIX.every((b, i) => v6[i] === b);
  return { bytes: Uint8Array.from(v6), version: mapped ? 4 : 6 };
}

export const isIpLiteral = (text: string) => parseIp(text) !== null;

/** The canonical text: dotted IPv4 (also for IPv4-mapped IPv6), RFC 5952 IPv6. */
export function formatIp(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.version === 4) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  // The longest run of two or more zero groups (the first of equals) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a block of one). Host bits are ignored. */
export function parseCidr(text: string): Cidr | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const ip = parseIp(slash < 0 ? trimmed : trimmed.slice(0, slash));
  if (!ip) return null;
  const width = ip.version === 4 ? 32 : 128;
  let bits = width;
  if (slash >= 0) {
    const len = trimmed.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(len) || Number(len) > width) return null;
    bits = Number(len);
  }
  if (ip.version === 4) bits += 96;
  const network = Uint8Array.from(ip.bytes);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    network[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return { network, bits, text: trimmed };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, cidr.bits - i * 8));
    if (keep === 0) return true;
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((ip.bytes[i]! & mask) !== cidr.network[i]) return false;
  }
  return true;
}

/** Whether every address of `inner` is also in `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.bits >= outer.bits && cidrContains(outer, { bytes: inner.network, version: 6 });
}
