import { cpus, networkInterfaces, totalmem } from 'node:os';

/** Interfaces that are container plumbing, not the machine's own address. */
const VIRTUAL = /^(docker\d*|br-|veth|cni|flannel|virbr|lxc|podman|tun|tap|wg|zt)/;

/** The first non-internal IPv4 address of a physical-looking interface, else 127.0.0.1. */
export function detectAddress(ifaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string {
  for (const [name, addrs] of Object.entries(ifaces)) {
    if (VIRTUAL.test(name)) continue;
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function nodeCapacity(): { cpu: number; memoryBytes: number } {
  return { cpu: Math.max(1, cpus().length), memoryBytes: totalmem() };
}

/** Node's process.arch as Go (and so Kubernetes' kubernetes.io/arch) names it. */
const GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

/**
 * The platform labels the kubelet sets, so selectors written for Kubernetes match Berth nodes:
 * kubernetes.io/os and /arch and their beta. forms. The agent runs on Linux only. The control
 * plane adds kubernetes.io/hostname (the node name) itself, as it adds berth.dev/node.
 */
export function platformLabels(arch: string = process.arch): Record<string, string> {
  const goArch = GOARCH[arch] ?? arch;
  return {
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': goArch,
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': goArch,
  };
}
