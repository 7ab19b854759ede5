import { describe, expect, it } from 'vitest';
import { CpuQuantity, MemoryQuantity, Resources } from './deployment.ts';
import {
  cpuQuantityProblem,
  formatMemory,
  formatNanoCores,
  memoryQuantityProblem,
  parseCpu,
  parseMemory,
} from './quantity.ts';

/**
 * The values Kubernetes gives (resource.Quantity: MilliValue for CPU, Value for memory, both rounded
 * up), worked out from its documented grammar and rounding. `undefined`: Kubernetes refuses the text.
 */
const CPU_MILLIS: [string | number, number | undefined][] = [
  ['1', 1000],
  ['+1', 1000],
  ['.5', 500],
  ['0.5', 500],
  ['0.1', 100],
  ['1.', 1000],
  ['250m', 250],
  ['1500m', 1500],
  ['0.1m', 1], // rounded up: asking for some CPU gets some
  ['0.0001', 1],
  ['500000u', 500],
  ['100000000n', 100],
  ['1n', 1],
  ['5e-1', 500],
  ['1e-3', 1],
  ['2e3', 2_000_000],
  ['1E3', 1_000_000],
  ['1e+3', 1_000_000],
  ['1k', 1_000_000],
  ['1Ki', 1_024_000],
  ['4096', 4_096_000],
  ['0', 0],
  ['-0', 0],
  ['000.500', 500],
  [' 2 ', 2000], // Kubernetes trims white space before parsing
  // What Kubernetes reads as zero: a bare sign, point or suffix.
  ['+', 0],
  ['.', 0],
  ['m', 0],
  ['e3', 0],
  // Plain numbers, as YAML writes them.
  [2, 2000],
  [0.5, 500],
  [0.25, 250],
  [1e-4, 1],
  // Refused by Kubernetes.
  ['', undefined],
  ['1e3m', undefined], // an exponent and a suffix do not combine
  ['1Kim', undefined],
  ['1K', undefined], // kilo is lowercase
  ['1ki', undefined],
  ['1mi', undefined],
  ['1e', undefined],
  ['1e+', undefined],
  ['1ee3', undefined],
  ['1 m', undefined],
  ['1.5.5', undefined],
  ['0x10', undefined],
  ['1_000', undefined],
  ['one', undefined],
  ['1m3', undefined],
  [Number.NaN, undefined],
  [Number.POSITIVE_INFINITY, undefined],
];

const MEMORY_BYTES: [string | number, number | undefined][] = [
  ['128974848', 128_974_848],
  ['129e6', 129_000_000],
  ['129M', 129_000_000],
  ['128974848000m', 128_974_848],
  ['123Mi', 128_974_848],
  ['1Ki', 1024],
  ['1k', 1000],
  ['1.5Gi', 1_610_612_736],
  ['0.5Ki', 512],
  ['1e3', 1000],
  ['1E3', 1000],
  ['1e+3', 1000],
  ['1G', 1e9],
  ['1T', 1e12],
  ['1Pi', 2 ** 50],
  ['8Pi', 2 ** 53],
  ['1E', 1e18], // exa, not an exponent
  ['1Ei', 2 ** 60],
  ['0.5', 1], // rounded up to a whole byte
  ['100m', 1],
  ['1.1', 2],
  ['+64Mi', 64 * 2 ** 20],
  ['1.G', 1e9],
  [134217728, 134_217_728],
  [1.5, 2],
  ['1e3m', undefined],
  ['1Mi3', undefined],
  ['1MB', undefined],
  ['1Gb', undefined],
  ['1KiB', undefined],
  ['128 Mi', undefined],
  ['1e99999999999', undefined], // beyond Kubernetes' 32-bit exponent
];

describe('quantities, as Kubernetes reads them', () => {
  it.each(CPU_MILLIS)('cpu %j is %j millicores', (text, millis) => {
    expect(parseCpu(text)).toBe(millis);
  });

  it.each(MEMORY_BYTES)('memory %j is %j bytes', (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });

  it('keeps the exact value of long decimals (no floating point on the way)', () => {
    expect(parseMemory('9007199254740993m')).toBe(9_007_199_254_741); // ceil(9007199254740.993)
    expect(parseCpu('0.000000001')).toBe(1);
    expect(parseCpu('4095.999999999999999999')).toBe(4_096_000);
    expect(parseMemory('1e-30')).toBe(1);
    expect(parseMemory('0e99999')).toBe(0);
  });

  it('refuses negative values, and values no node could hold, saying which', () => {
    expect(cpuQuantityProblem('-1')).toBe('must be greater than or equal to 0');
    expect(memoryQuantityProblem('-128Mi')).toBe('must be greater than or equal to 0');
    expect(parseCpu('-1')).toBeUndefined();
    expect(cpuQuantityProblem('4097')).toBe('must be at most 4096 cores');
    expect(cpuQuantityProblem('1E')).toBe('must be at most 4096 cores');
    expect(cpuQuantityProblem('129e6')).toBe('must be at most 4096 cores');
    expect(cpuQuantityProblem('1e400')).toBe('must be at most 4096 cores');
    expect(memoryQuantityProblem('1E')).toBe('must be at most 8Pi');
    expect(memoryQuantityProblem('8Pi')).toBeUndefined();
    expect(memoryQuantityProblem('1e3m')).toMatch(/^must be a memory quantity such as "128Mi"/);
    expect(cpuQuantityProblem('1K')).toMatch(/^must be a CPU quantity such as "250m"/);
  });

  it('the container schemas give the same verdicts', () => {
    expect(CpuQuantity.safeParse('.5').success).toBe(true);
    expect(MemoryQuantity.safeParse('128974848000m').success).toBe(true);
    const negative = CpuQuantity.safeParse('-500m');
    expect(negative.success ? [] : negative.error.issues.map((i) => i.message)).toEqual([
      'must be greater than or equal to 0',
    ]);
  });
});

describe('requests against limits', () => {
  const resources = (requests: object, limits: object) =>
    Resources.safeParse({ requests, limits }).error?.issues.map((i) => [i.path.join('.'), i.message]) ?? [];

  it('refuses a request above its limit, as Kubernetes does, comparing values rather than text', () => {
    expect(resources({ cpu: '2' }, { cpu: '1' })).toEqual([
      ['requests.cpu', 'must be less than or equal to cpu limit of 1'],
    ]);
    expect(resources({ memory: '129e6' }, { memory: '123Mi' })).toEqual([
      ['requests.memory', 'must be less than or equal to memory limit of 123Mi'],
    ]);
    expect(resources({ cpu: '.5', memory: '128974848000m' }, { cpu: '500m', memory: '123Mi' })).toEqual([]);
    expect(resources({ cpu: '100m' }, { memory: '1Gi' })).toEqual([]);
  });
});

describe('usage quantities, as metrics-server writes them', () => {
  it('writes CPU in the largest suffix that keeps it whole', () => {
    expect(formatNanoCores(0)).toBe('0');
    expect(formatNanoCores(1_234_567)).toBe('1234567n');
    expect(formatNanoCores(250_000_000)).toBe('250m');
    expect(formatNanoCores(2_000_000_000)).toBe('2');
    expect(formatNanoCores(1_500_000)).toBe('1500u');
    // kubectl top reads them back as the same millicores.
    for (const n of [1_234_567, 250_000_000, 1_500_000, 3_999_999_999])
      expect(parseCpu(formatNanoCores(n))).toBe(Math.ceil(n / 1e6));
  });

  it('writes memory in binary suffixes when whole, bytes otherwise', () => {
    expect(formatMemory(12_345 * 1024)).toBe('12345Ki');
    expect(formatMemory(1000)).toBe('1000');
    expect(parseMemory(formatMemory(12_641_280))).toBe(12_641_280);
  });
});
