import { describe, expect, it } from 'vitest';
import {
  CHANNEL,
  closeFrame,
  DockerDemux,
  execFrame,
  exitStatus,
  failureStatus,
  parseExecFrame,
  parseResize,
  statusFrame,
} from './exec-stream.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** An engine chunk: stream, three zero bytes, big-endian length, data. */
const chunk = (stream: number, data: string) => {
  const body = new TextEncoder().encode(data);
  const head = Uint8Array.of(stream, 0, 0, 0, 0, 0, 0, 0);
  new DataView(head.buffer).setUint32(4, body.length);
  return Uint8Array.from([...head, ...body]);
};

describe('the exec stream (v5.channel.k8s.io)', () => {
  it('puts the channel before the data and reads it back', () => {
    const f = execFrame(CHANNEL.stdout, 'hi');
    expect([...f]).toEqual([1, 104, 105]);
    const back = parseExecFrame(f);
    expect(back.kind === 'data' && back.channel === 1 && text(back.data)).toBe('hi');
    expect(parseExecFrame(execFrame(CHANNEL.stdin, new Uint8Array(0)))).toEqual({
      kind: 'data',
      channel: 0,
      data: new Uint8Array(0),
    });
  });

  it('reads v5 close markers (stdin EOF) and ignores malformed ones and empty messages', () => {
    expect([...closeFrame(CHANNEL.stdin)]).toEqual([255, 0]);
    expect(parseExecFrame(Uint8Array.of(255, 0))).toEqual({ kind: 'close', channel: 0 });
    expect(parseExecFrame(Uint8Array.of(255))).toEqual({ kind: 'empty' });
    expect(parseExecFrame(Uint8Array.of(255, 0, 1))).toEqual({ kind: 'empty' });
    expect(parseExecFrame(new Uint8Array(0))).toEqual({ kind: 'empty' });
  });

  it("reads kubectl's resize messages and nothing else as one", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(parseResize(enc('{"Width":120,"Height":40}'))).toEqual({ width: 120, height: 40 });
    expect(parseResize(enc('{"Width":0,"Height":40}'))).toBeUndefined();
    expect(parseResize(enc('{"Width":"80","Height":24}'))).toBeUndefined();
    expect(parseResize(enc('not json'))).toBeUndefined();
  });

  it('reports exit codes as the kubelet does, so kubectl exits with the same code', () => {
    expect(exitStatus(0)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
    expect(exitStatus(3)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: exit status 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    const f = statusFrame(failureStatus('no such container'));
    expect(f[0]).toBe(CHANNEL.error);
    expect(JSON.parse(text(f.subarray(1)))).toMatchObject({
      status: 'Failure',
      message: 'no such container',
    });
  });

  it("splits the engine's multiplexed output into stdout and stderr, across any chunking", () => {
    const all = Uint8Array.from([
      ...chunk(1, 'out\n'),
      ...chunk(2, 'err\n'),
      ...chunk(1, ''),
      ...chunk(1, 'x'),
    ]);
    for (const cut of [1, 3, 8, 9, 13, all.length]) {
      const demux = new DockerDemux();
      const got: [number, string][] = [];
      for (let at = 0; at < all.length; at += cut)
        for (const [ch, data] of demux.push(all.subarray(at, at + cut))) got.push([ch, text(data)]);
      const joined = got.reduce<[number, string][]>((acc, [ch, s]) => {
        const last = acc[acc.length - 1];
        if (last && last[0] === ch) last[1] += s;
        else acc.push([ch, s]);
        return acc;
      }, []);
      expect(joined, `cut ${cut}`).toEqual([
        [1, 'out\n'],
        [2, 'err\n'],
        [1, 'x'],
      ]);
    }
  });
});
