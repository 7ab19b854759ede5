import { createHash } from 'node:crypto';
import { arch } from 'node:process';

/*
 * The image of a pod's network holder: one static program that blocks until a signal ends it, as
 * Kubernetes' pause container does. A pod with init containers needs a container that owns its
 * network namespace from the first init container to the last app container; no image of the pod
 * can be trusted to hold a process that just waits (they are often FROM scratch), and a registry
 * may be out of reach, so the agent makes this image itself: a root file system of one file,
 * imported into the engine (Driver.importImage). The program is a few machine instructions in a
 * hand-made ELF file; it runs under docker-init (HostConfig.Init), so SIGTERM ends it.
 */

/** Where the program lives in the image. */
export const PAUSE_PATH = '/pause';

/** Each architecture's instructions: wait for a signal, forever. */
const CODE: Partial<Record<string, { machine: number; code: number[] }>> = {
  // loop: mov eax, 34 (pause); syscall; jmp loop
  x64: { machine: 62, code: [0xb8, 0x22, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7] },
  // loop: x0-x3 = 0; x8 = 73 (ppoll: no fds, no timeout); svc #0; b loop
  arm64: {
    machine: 183,
    code: words([0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd2800928, 0xd4000001, 0x17fffffa]),
  },
};

function words(ws: number[]): number[] {
  return ws.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff]);
}

/** A static ELF64 executable: header, one loadable segment, the code right after. */
export function pauseProgram(architecture: string = arch): Buffer {
  const target = CODE[architecture];
  if (!target) throw new Error(`pods with init containers are not supported on ${architecture} nodes`);
  const base = 0x400000;
  const headers = 64 + 56;
  const size = headers + target.code.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELF, 64-bit, little-endian, version 1
  b.writeUInt16LE(2, 16); // executable
  b.writeUInt16LE(target.machine, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BigInt(base + headers), 24); // entry
  b.writeBigUInt64LE(64n, 32); // program headers right after this header
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  b.writeUInt32LE(1, 64); // PT_LOAD
  b.writeUInt32LE(5, 68); // read + execute
  b.writeBigUInt64LE(BigInt(base), 80);
  b.writeBigUInt64LE(BigInt(base), 88);
  b.writeBigUInt64LE(BigInt(size), 96);
  b.writeBigUInt64LE(BigInt(size), 104);
  b.writeBigUInt64LE(0x1000n, 112);
  b.set(target.code, headers);
  return b;
}

/** A tar archive (ustar) of one executable file, the form the engine imports as a root file system. */
export function singleFileTar(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 'utf8');
  header.write('0000755\0', 100); // mode
  header.write('0000000\0', 108); // uid
  header.write('0000000\0', 116); // gid
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136); // mtime: fixed, so the image is the same everywhere
  header.write('        ', 148); // checksum field counts as spaces
  header.write('0', 156); // regular file
  header.write('ustar\u000000', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padded = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  content.copy(padded);
  return Buffer.concat([header, padded, Buffer.alloc(1024)]);
}

let cached: { ref: string; tar: Buffer } | undefined;

/**
 * The pause image of this node's architecture: its reference (named by its content, so a changed
 * program is a new image) and the tar to import it from; undefined on an architecture without one.
 */
export function pauseImage(): { ref: string; tar: Buffer } | undefined {
  if (cached) return cached;
  if (!CODE[arch]) return undefined;
  const tar = singleFileTar(PAUSE_PATH.slice(1), pauseProgram(arch));
  const digest = createHash('sha256').update(tar).digest('hex').slice(0, 12);
  cached = { ref: `berth-pause:${digest}`, tar };
  return cached;
}
