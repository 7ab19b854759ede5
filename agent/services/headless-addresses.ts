/**
 * Node-local addresses for the endpoints of headless services, taken from the map's
 * `endpointCidr`: DNS answers them, and the proxy pins each to its endpoint. An endpoint keeps its
 * address while it is in the map (a client that resolved it keeps reaching the same replica); a
 * freed address is reused last, so a stale DNS answer rarely points at another endpoint. IPv4.
 */
export class HeadlessAddresses {
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();
  private next = 0;
  private readonly base: number;
  private readonly size: number;

  /** Throws on a CIDR that is not IPv4 (the caller then runs without headless addresses). */
  constructor(readonly cidr: string) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
    const bytes = m?.slice(1, 5).map(Number);
    const bits = Number(m?.[5]);
    if (!m || !bytes || bytes.some((b) => b > 255) || bits > 30)
      throw new Error(`endpointCidr ${cidr} is not an IPv4 block of at least 4 addresses`);
    const ip = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    this.base = (ip & mask) >>> 0;
    // Neither the network's own address nor its broadcast address.
    this.size = 2 ** (32 - bits) - 2;
  }

  /**
   * Keeps the addresses of `keys` still present, frees the others, gives new keys one each.
   * Returns the address by key; a key left out has none (the block is full).
   */
  assign(keys: Iterable<string>): Map<string, string> {
    const wanted = new Set(keys);
    for (const [key, offset] of this.byKey) {
      if (wanted.has(key)) continue;
      this.byKey.delete(key);
      this.used.delete(offset);
    }
    for (const key of wanted) {
      if (this.byKey.has(key) || this.used.size >= this.size) continue;
      // Round the block from where the last one was given: freed addresses come back last.
      while (this.used.has(this.next)) this.next = (this.next + 1) % this.size;
      this.byKey.set(key, this.next);
      this.used.add(this.next);
      this.next = (this.next + 1) % this.size;
    }
    const out = new Map<string, string>();
    for (const [key, offset] of this.byKey) out.set(key, format((this.base + 1 + offset) >>> 0));
    return out;
  }
}

function format(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
