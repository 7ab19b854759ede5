import type { LogLine } from './driver/driver.ts';

/** Largest line the protocol carries (LogAnswer.lines items). */
const MAX_LINE = 65_536;
export const MAX_TAIL = 10_000;

/**
 * Docker multiplexes stdout and stderr of a non-TTY container into frames: 8-byte header
 * (stream, 0, 0, 0, uint32 big-endian length) then the payload. Returns the payloads joined.
 */
export function demuxDockerStream(buf: Uint8Array): string {
  const parts: Buffer[] = [];
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let i = 0;
  while (i + 8 <= b.length) {
    const kind = b[i];
    if (kind !== 0 && kind !== 1 && kind !== 2) return b.toString('utf8'); // not multiplexed (TTY)
    const len = b.readUInt32BE(i + 4);
    parts.push(b.subarray(i + 8, Math.min(b.length, i + 8 + len)));
    i += 8 + len;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Splits Docker's `timestamps: true` output ("<RFC3339Nano> <text>" per line) into lines. */
export function parseTimestampedLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const sp = raw.indexOf(' ');
    if (sp > 0 && /^\d{4}-\d\d-\d\dT/.test(raw))
      out.push({ time: raw.slice(0, sp), text: raw.slice(sp + 1) });
    else out.push({ time: '', text: raw });
  }
  return out;
}

/**
 * The last `tail` lines across a replica's containers, oldest first, merged by time. With more
 * than one container each line is prefixed with its container's name.
 */
export function mergeTails(
  perContainer: { name: string; lines: LogLine[] }[],
  tail: number,
  /** Start each line with its timestamp and a space (lines the engine did not stamp keep none). */
  timestamps = false,
): string[] {
  const n = Math.max(0, Math.min(tail, MAX_TAIL));
  const prefix = perContainer.length > 1;
  const all: { time: string; seq: number; text: string }[] = [];
  let seq = 0;
  for (const c of perContainer) {
    for (const l of c.lines)
      all.push({
        time: l.time,
        seq: seq++,
        text: `${timestamps && l.time ? `${l.time} ` : ''}${prefix ? `[${c.name}] ` : ''}${l.text}`,
      });
  }
  // Stable by time; the sequence keeps each container's own order for equal stamps.
  all.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.seq - b.seq));
  return all
    .slice(Math.max(0, all.length - n))
    .map((l) => (l.text.length > MAX_LINE ? l.text.slice(0, MAX_LINE) : l.text));
}
