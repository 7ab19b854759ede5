import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CHANNEL, execFrame, exitStatus, statusFrame } from '../../common/exec-stream.ts';
import { createLogger } from '../../common/logger.ts';
import { bridge, ExecPairing, type ExecSocket } from './exec-pairing.ts';

/** A standard WebSocket's behaviour, as far as pairing sees it: events in, sends and a close out. */
class FakeSocket extends EventTarget {
  readyState = 1;
  binaryType = 'blob';
  sent: Uint8Array[] = [];
  closedWith: number | undefined;

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    const bytes =
      typeof data === 'string'
        ? new TextEncoder().encode(data)
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.sent.push(bytes.slice());
  }

  close(code?: number): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = code;
    this.dispatchEvent(new Event('close'));
  }

  /** A message from the other end of this socket. */
  receive(bytes: Uint8Array): void {
    this.dispatchEvent(new MessageEvent('message', { data: bytes.slice().buffer }));
  }

  /** The socket finished opening. */
  opened(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
  }

  /** The other end went away. */
  drop(): void {
    this.close(1006);
  }

  get socket(): ExecSocket {
    return this as unknown as ExecSocket;
  }

  /** The Status kubectl read on the error channel, if any. */
  status(): { status: string; message?: string } | undefined {
    const frame = this.sent.find((b) => b[0] === CHANNEL.error);
    return frame && JSON.parse(new TextDecoder().decode(frame.subarray(1)));
  }
}

const TAKE_MS = 15_000;
let ended: string[];
let pairing: ExecPairing;

beforeEach(() => {
  vi.useFakeTimers();
  ended = [];
  pairing = new ExecPairing({
    end: async (id) => {
      ended.push(id);
    },
    log: createLogger('silent'),
    takeMs: TAKE_MS,
    earlyLimit: 64,
  });
});

afterEach(() => {
  vi.useRealTimers();
});

const stdin = (text: string) => execFrame(CHANNEL.stdin, text);

describe('ExecPairing', () => {
  it('ends kubectl’s stream with a failure Status when no agent comes within the take time', async () => {
    const kubectl = new FakeSocket();
    pairing.wait('exec_1', 'n1', kubectl.socket);
    vi.advanceTimersByTime(TAKE_MS - 1);
    expect(kubectl.readyState).toBe(1);
    vi.advanceTimersByTime(1);
    expect(kubectl.status()).toMatchObject({
      status: 'Failure',
      message: 'the agent of node n1 did not answer',
    });
    expect(kubectl.closedWith).toBe(1000);
    await vi.runAllTimersAsync();
    expect(ended).toEqual(['exec_1']);
    // An agent that comes after is turned away, not paired with a closed socket.
    const late = new FakeSocket();
    pairing.pair('exec_1', late.socket);
    expect(late.closedWith).toBe(1011);
    expect(pairing.streams).toBe(0);
  });

  it('hands the agent what kubectl sent before it came, in order, then copies both ways', async () => {
    const kubectl = new FakeSocket();
    pairing.wait('exec_2', 'n1', kubectl.socket);
    kubectl.receive(stdin('early '));
    kubectl.receive(execFrame(CHANNEL.resize, '{"Width":80,"Height":24}'));
    const agent = new FakeSocket();
    pairing.pair('exec_2', agent.socket);
    // Sent on as they came: the standard's default, a Blob, would go out as a text message.
    expect([kubectl.binaryType, agent.binaryType]).toEqual(['arraybuffer', 'arraybuffer']);
    expect(agent.sent.map((b) => b[0])).toEqual([CHANNEL.stdin, CHANNEL.resize]);
    expect(new TextDecoder().decode(agent.sent[0]!.subarray(1))).toBe('early ');
    kubectl.receive(stdin('later'));
    expect(agent.sent).toHaveLength(3);
    agent.receive(execFrame(CHANNEL.stdout, 'out'));
    agent.receive(statusFrame(exitStatus(0)));
    expect(kubectl.sent.map((b) => b[0])).toEqual([CHANNEL.stdout, CHANNEL.error]);
    // The take time passing after pairing changes nothing.
    vi.advanceTimersByTime(TAKE_MS * 2);
    expect(kubectl.readyState).toBe(1);
    agent.close(1000);
    expect(kubectl.closedWith).toBe(1000);
    expect(kubectl.status()).toMatchObject({ status: 'Success' });
    await vi.runAllTimersAsync();
    expect(ended).toEqual(['exec_2']);
    expect(pairing.streams).toBe(0);
  });

  it('tells kubectl when the agent goes without its Status', async () => {
    const kubectl = new FakeSocket();
    pairing.wait('exec_3', 'n2', kubectl.socket);
    const agent = new FakeSocket();
    pairing.pair('exec_3', agent.socket);
    agent.receive(execFrame(CHANNEL.stdout, 'partial'));
    agent.drop();
    expect(kubectl.status()).toMatchObject({
      status: 'Failure',
      message: 'the agent of node n2 ended the stream without an exit status',
    });
    expect(kubectl.closedWith).toBe(1000);
    await vi.runAllTimersAsync();
    expect(ended).toEqual(['exec_3']);
  });

  it('closes the agent’s socket when kubectl goes', async () => {
    const kubectl = new FakeSocket();
    pairing.wait('exec_4', 'n1', kubectl.socket);
    const agent = new FakeSocket();
    pairing.pair('exec_4', agent.socket);
    kubectl.drop();
    expect(agent.closedWith).toBe(1000);
    await vi.runAllTimersAsync();
    expect(ended).toEqual(['exec_4']);
  });

  it('ends the session when kubectl leaves before its agent comes', async () => {
    const kubectl = new FakeSocket();
    pairing.wait('exec_5', 'n1', kubectl.socket);
    kubectl.drop();
    await vi.runAllTimersAsync();
    expect(ended).toEqual(['exec_5']);
    vi.advanceTimersByTime(TAKE_MS);
    expect(kubectl.sent).toEqual([]);
  });

  it('bounds what kubectl may send before its agent: past it, the stream ends with a Status', async () => {
    const kubectl = new FakeSocket();
    pairing.wait('exec_6', 'n1', kubectl.socket);
    kubectl.receive(stdin('x'.repeat(40)));
    expect(kubectl.readyState).toBe(1);
    kubectl.receive(stdin('x'.repeat(40)));
    expect(kubectl.status()?.message).toBe(
      'kubectl sent more than 64 bytes before the agent of node n1 answered',
    );
    expect(kubectl.closedWith).toBe(1000);
    await vi.runAllTimersAsync();
    expect(ended).toEqual(['exec_6']);
  });

  it('tells every open stream when the control plane stops', () => {
    const waiting = new FakeSocket();
    pairing.wait('exec_7', 'n1', waiting.socket);
    const kubectl = new FakeSocket();
    pairing.wait('exec_8', 'n1', kubectl.socket);
    const agent = new FakeSocket();
    pairing.pair('exec_8', agent.socket);
    pairing.close();
    expect(waiting.status()?.message).toBe('the control plane is shutting down');
    expect(agent.closedWith).toBe(1000);
    expect(kubectl.readyState).toBe(3);
  });
});

describe('bridge', () => {
  it('carries an agent’s socket to the copy holding kubectl’s: early messages in order, then both ways', () => {
    const agent = new FakeSocket();
    const upstream = new FakeSocket();
    upstream.readyState = 0;
    bridge(agent.socket, upstream.socket);
    agent.receive(execFrame(CHANNEL.stdout, 'one'));
    agent.receive(execFrame(CHANNEL.stdout, 'two'));
    expect(upstream.sent).toEqual([]);
    upstream.opened();
    agent.receive(statusFrame(exitStatus(0)));
    expect(upstream.sent.map((b) => new TextDecoder().decode(b.subarray(1)))).toEqual([
      'one',
      'two',
      JSON.stringify(exitStatus(0)),
    ]);
    upstream.receive(stdin('typed'));
    expect(agent.sent).toHaveLength(1);
    agent.close(1000);
    expect(upstream.closedWith).toBe(1000);
  });

  it('closes the agent’s socket when the holder cannot be reached', () => {
    const agent = new FakeSocket();
    const upstream = new FakeSocket();
    upstream.readyState = 0;
    bridge(agent.socket, upstream.socket);
    upstream.drop();
    expect(agent.closedWith).toBe(1000);
  });
});
