import { describe, expect, it } from 'vitest';
import { demuxDockerStream, mergeTails, parseTimestampedLines } from './log-tail.ts';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

describe('log tail', () => {
  it('demultiplexes stdout and stderr frames', () => {
    const buf = Buffer.concat([frame(1, 'a\n'), frame(2, 'err\n'), frame(1, 'b\n')]);
    expect(demuxDockerStream(buf)).toBe('a\nerr\nb\n');
  });

  it('passes TTY output through', () => {
    expect(demuxDockerStream(Buffer.from('plain text\n'))).toBe('plain text\n');
  });

  it('splits timestamps off', () => {
    expect(
      parseTimestampedLines('2024-01-01T00:00:00.1Z hello world\n2024-01-01T00:00:00.2Z \nraw\n'),
    ).toEqual([
      { time: '2024-01-01T00:00:00.1Z', text: 'hello world' },
      { time: '2024-01-01T00:00:00.2Z', text: '' },
      { time: '', text: 'raw' },
    ]);
  });

  it('keeps one container unprefixed and tails it', () => {
    const lines = [1, 2, 3].map((i) => ({ time: `2024-01-01T00:00:0${i}Z`, text: `l${i}` }));
    expect(mergeTails([{ name: 'web', lines }], 2)).toEqual(['l2', 'l3']);
  });

  it('merges several containers by time, prefixed, last N overall', () => {
    const web = [
      { time: '2024-01-01T00:00:01Z', text: 'w1' },
      { time: '2024-01-01T00:00:03Z', text: 'w3' },
    ];
    const side = [
      { time: '2024-01-01T00:00:02Z', text: 's2' },
      { time: '2024-01-01T00:00:04Z', text: 's4' },
    ];
    expect(
      mergeTails(
        [
          { name: 'web', lines: web },
          { name: 'side', lines: side },
        ],
        3,
      ),
    ).toEqual(['[side] s2', '[web] w3', '[side] s4']);
  });
});

describe('log tail with timestamps', () => {
  it('starts each line with its stamp when asked, before the container prefix', () => {
    const lines = [
      { time: '2024-01-01T00:00:01Z', text: 'l1' },
      { time: '', text: 'raw' },
    ];
    expect(mergeTails([{ name: 'web', lines }], 5, true)).toEqual([
      // An unstamped line sorts first, as before; it keeps no stamp.
      'raw',
      '2024-01-01T00:00:01Z l1',
    ]);
    expect(
      mergeTails(
        [
          { name: 'web', lines: [{ time: '2024-01-01T00:00:01Z', text: 'w' }] },
          { name: 'side', lines: [{ time: '2024-01-01T00:00:02Z', text: 's' }] },
        ],
        5,
        true,
      ),
    ).toEqual(['2024-01-01T00:00:01Z [web] w', '2024-01-01T00:00:02Z [side] s']);
  });
});
