/**
 * Kubernetes resource quantities, read as Kubernetes reads them (resource.Quantity), exactly: the
 * number is kept as decimal digits and powers of ten and two, never as a float, and rounded up to
 * the unit asked for as Kubernetes' MilliValue and Value do ("0.1m" of CPU is 1 millicore, "0.5"
 * bytes is 1 byte). CPU is kept in millicores and memory in bytes, so the scheduler can add them as
 * plain integers.
 *
 * The grammar (quantity.go): `[+-]digits[.digits]` (either side of the point may be empty), then a
 * suffix: a decimal SI one (n u m "" k M G T P E), a binary one (Ki Mi Gi Ti Pi Ei), or an exponent
 * (`e`/`E` and a signed integer: "129e6", "1E3", "5e-1"). "1E" is exa (10^18), not an exponent.
 * Suffixes do not combine: "1e3m" and "1Kim" are refused, and so is "1K" (kilo is lowercase).
 * Kubernetes trims surrounding white space and reads a bare sign, point or suffix ("+", ".", "m")
 * as zero; so does this.
 */

const DECIMAL_SUFFIX = new Map(
  Object.entries({ n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }),
);
const BINARY_SUFFIX = new Map(Object.entries({ Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }));

/** Sign, digits either side of the point, then the suffix: its letters, and an exponent's signed digits. */
const QUANTITY_RE = /^([+-]?)(\d*)(?:\.(\d*))?([eEinumkKMGTP]*[+-]?\d*)$/;
/** Go's strings.TrimSpace (unicode.IsSpace), which Kubernetes applies before parsing. */
const GO_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
/** Kubernetes keeps an exponent as an int32 (and wraps beyond it); one that large is refused here. */
const MAX_EXPONENT = 2 ** 31 - 1;

/** A quantity, exactly: (negative ? -1 : 1) × digits × 10^exp10 × 2^exp2. */
export interface Quantity {
  negative: boolean;
  digits: bigint;
  exp10: number;
  exp2: number;
}

/**
 * Reads a quantity as written in a manifest: a string, or a plain number (YAML `cpu: 0.5`), which
 * Kubernetes reads from its JSON text. Returns undefined when Kubernetes would refuse it.
 */
export function parseQuantity(value: string | number): Quantity | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    // JavaScript's shortest round-trip form is valid quantity syntax: "0.5", "1e+21", "1e-7".
    text = String(value);
  } else {
    text = value.replace(GO_SPACE, '');
  }
  if (text === '') return undefined;
  const m = QUANTITY_RE.exec(text);
  if (!m) return undefined;
  const [, sign = '', whole = '', fraction = '', suffix = ''] = m;
  let exp10 = 0;
  let exp2 = 0;
  const decimal = DECIMAL_SUFFIX.get(suffix);
  const binary = BINARY_SUFFIX.get(suffix);
  if (decimal !== undefined) exp10 = decimal;
  else if (binary !== undefined) exp2 = binary;
  else {
    const exponent = /^[eE]([+-]?\d+)$/.exec(suffix);
    if (!exponent) return undefined;
    const n = Number(exponent[1]);
    if (Math.abs(n) > MAX_EXPONENT) return undefined;
    exp10 = n;
  }
  const digits = BigInt(`${whole}${fraction}` || '0');
  return { negative: sign === '-' && digits !== 0n, digits, exp10: exp10 - fraction.length, exp2 };
}

/**
 * ceil(|q| / 10^unitExp10): Kubernetes' ScaledValue. Astronomically large values come back as
 * Infinity (beyond every bound a caller checks); tiny non-zero ones as 1.
 */
function ceilAt(q: Quantity, unitExp10: number): number {
  if (q.digits === 0n) return 0;
  const k = q.exp10 - unitExp10;
  const length = q.digits.toString().length;
  // digits × 10^k ≥ 10^(length - 1 + k); past 10^40 units no bound matters.
  if (length + k > 40) return Number.POSITIVE_INFINITY;
  // digits × 2^60 < 10^(length + 19): below one unit when length + 19 + k ≤ 0.
  if (length + 19 + k <= 0) return 1;
  const scaled = q.digits << BigInt(q.exp2);
  if (k >= 0) return Number(scaled * 10n ** BigInt(k));
  const divisor = 10n ** BigInt(-k);
  return Number((scaled + divisor - 1n) / divisor);
}

/** What is wrong with a CPU or memory quantity for a container, or undefined when nothing is. */
function quantityProblem(
  value: string | number,
  read: (q: Quantity) => number,
  max: number,
  what: { example: string; max: string },
): string | undefined {
  const q = parseQuantity(value);
  if (!q) return `must be a ${what.example}`;
  if (q.negative) return 'must be greater than or equal to 0';
  if (read(q) > max) return `must be at most ${what.max}`;
  return undefined;
}

/**
 * No node has more than 4096 cores (RegisterRequest's bound), so no request beyond that could ever
 * be placed; the bound also keeps a replica's summed millicores inside the 32-bit columns that
 * hold them (an unbounded quantity failed every reconcile of its batch).
 */
export const MAX_CPU_MILLIS = 4096 * 1000;
/**
 * 8Pi: the largest byte count JavaScript adds exactly. Kubernetes allows up to 2^63-1 (such a pod
 * never fits a node); past this bound a pod's 16 containers could overflow the 64-bit columns.
 */
export const MAX_MEMORY_BYTES = 2 ** 53;

export function cpuQuantityProblem(value: string | number): string | undefined {
  return quantityProblem(value, (q) => ceilAt(q, -3), MAX_CPU_MILLIS, {
    example: 'CPU quantity such as "250m", "0.5" or "2"',
    max: '4096 cores',
  });
}

export function memoryQuantityProblem(value: string | number): string | undefined {
  return quantityProblem(value, (q) => ceilAt(q, 0), MAX_MEMORY_BYTES, {
    example: 'memory quantity such as "128Mi", "1G" or "129e6"',
    max: '8Pi',
  });
}

/** "250m" → 250, "1.5" → 1500, 2 → 2000, "0.1m" → 1. Undefined when not a quantity or negative. */
export function parseCpu(value: string | number): number | undefined {
  const q = parseQuantity(value);
  return q && !q.negative ? ceilAt(q, -3) : undefined;
}

/** "128Mi" → 134217728, "1G" → 1e9, "128974848000m" → 128974848. Undefined when not a quantity or negative. */
export function parseMemory(value: string | number): number | undefined {
  const q = parseQuantity(value);
  return q && !q.negative ? ceilAt(q, 0) : undefined;
}

export function formatMemory(bytes: number): string {
  for (const [suffix, size] of [
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/**
 * CPU in billionths of a core as Kubernetes writes a quantity in canonical form: the largest
 * suffix that keeps it whole (`250m`, `1234567n`, `2`), as metrics-server's usage reads.
 */
export function formatNanoCores(nanoCores: number): string {
  const n = Math.max(0, Math.round(nanoCores));
  for (const [suffix, size] of [
    ['', 1e9],
    ['m', 1e6],
    ['u', 1e3],
  ] as const) {
    if (n % size === 0) return `${n / size}${suffix}`;
  }
  return `${n}n`;
}
