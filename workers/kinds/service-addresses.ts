/**
 * The address spaces of services: the IPv4 block cluster IPs come from (BERTH_SERVICE_CIDR), the
 * port range node ports come from (BERTH_NODE_PORT_RANGE) and the block agents take headless
 * endpoints' addresses from (BERTH_ENDPOINT_CIDR). Pure: parsing, membership and picking a free
 * value; the store (kinds/service-allocations.ts) holds what is taken.
 */

/** An IPv4 block as numbers: `first` is its network address, `size` its count of addresses. */
export interface Ipv4Block {
  /** Canonical `a.b.c.d/n`. */
  text: string;
  first: number;
  size: number;
}

export interface PortRange {
  min: number;
  max: number;
}

/** What the service address rules read from the configuration. */
export interface ServiceAddressConfig {
  serviceCidr: string;
  nodePortRange: PortRange;
}

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_NODE_PORT_RANGE: PortRange = { min: 30000, max: 32767 };
export const DEFAULT_ENDPOINT_CIDR = '10.112.0.0/16';
export const DEFAULT_SERVICE_ADDRESSES: ServiceAddressConfig = {
  serviceCidr: DEFAULT_SERVICE_CIDR,
  nodePortRange: DEFAULT_NODE_PORT_RANGE,
};

/** Dotted IPv4 → a number; undefined for anything else (no leading zeros, as common/ip-address.ts). */
export function ipv4ToNumber(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export const numberToIpv4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * `10.96.0.0/12` → the block, or a message. A block of fewer than 4 addresses leaves no room
 * once its network and broadcast addresses are set aside; host bits must be zero, so the text
 * says what it means.
 */
export function parseIpv4Block(text: string): Ipv4Block | string {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text.trim());
  const address = m ? ipv4ToNumber(m[1]!) : undefined;
  const bits = m ? Number(m[2]) : Number.NaN;
  if (address === undefined || !(bits >= 0 && bits <= 32))
    return `"${text}" is not an IPv4 CIDR block such as 10.96.0.0/12`;
  if (bits > 30) return `"${text}" is too small: use a block of at least 4 addresses (/30 or larger)`;
  const size = 2 ** (32 - bits);
  const first = address - (address % size);
  if (first !== address) return `"${text}" has host bits set: did you mean ${numberToIpv4(first)}/${bits}?`;
  return { text: `${numberToIpv4(first)}/${bits}`, first, size };
}

/** `30000-32767` → the range, or a message. */
export function parsePortRange(text: string): PortRange | string {
  const m = /^\s*([0-9]{1,5})\s*-\s*([0-9]{1,5})\s*$/.exec(text);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max)
    return `"${text}" is not a port range such as 30000-32767 (1-65535, low-high)`;
  return { min, max };
}

export const blocksOverlap = (a: Ipv4Block, b: Ipv4Block) =>
  a.first < b.first + b.size && b.first < a.first + a.size;

/** Whether `ip` may be a cluster IP of `block`: inside it, and neither its network nor broadcast address. */
export function isAssignable(block: Ipv4Block, ip: number): boolean {
  return ip > block.first && ip < block.first + block.size - 1;
}

/**
 * A value in [min, max] not in `used`, or undefined when every one is taken. Random, as
 * Kubernetes' allocators are, so that a value freed a moment ago is not handed out again at once
 * (a client still holding the old service's address would reach the new one); a scan from a
 * random start finds the last free values of a nearly full range.
 */
export function pickFree(
  min: number,
  max: number,
  used: ReadonlySet<number>,
  random: () => number = Math.random,
): number | undefined {
  const size = max - min + 1;
  if (used.size >= size) {
    let inRange = 0;
    for (const v of used) if (v >= min && v <= max) inRange++;
    if (inRange >= size) return undefined;
  }
  for (let i = 0; i < 32; i++) {
    const v = min + Math.floor(random() * size);
    if (!used.has(v)) return v;
  }
  const start = Math.floor(random() * size);
  for (let i = 0; i < size; i++) {
    const v = min + ((start + i) % size);
    if (!used.has(v)) return v;
  }
  return undefined;
}
