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
