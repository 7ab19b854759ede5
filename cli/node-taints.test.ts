import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.ts';
import { run } from './main.ts';
import { parseTaintArgs } from './node-taints.ts';
import { type CapturedIo, captureIo, problem, StubServer } from './testing/stub-server.ts';

let stub: StubServer;
let io: CapturedIo;

beforeEach(async () => {
  stub = await new StubServer().start();
  io = captureIo();
  io.env.BERTH_SERVER = stub.url;
  io.env.BERTH_TOKEN = 'secret-token';
});
afterEach(() => stub.stop());

const berth = (...argv: string[]) => run(argv, io);

describe('berth node taint', () => {
  it('reads taints as kubectl taint writes them', () => {
    expect(
      parseTaintArgs(['dedicated=gpu:NoSchedule', 'spot:PreferNoSchedule', 'old:NoSchedule-', 'gone-']),
    ).toEqual({
      add: [
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: 'spot', effect: 'PreferNoSchedule' },
      ],
      remove: [{ key: 'old', effect: 'NoSchedule' }, { key: 'gone' }],
    });
    expect(() => parseTaintArgs(['dedicated=gpu'])).toThrow(/key=value:Effect/);
    expect(() => parseTaintArgs([])).toThrow(/missing a taint/);
  });

  it('sends one change for all its arguments and shows the taints in get nodes -o wide', async () => {
    const node = {
      name: 'vm-1',
      status: 'Ready',
      labels: { 'berth.dev/node': 'vm-1' },
      taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
    };
    stub.on('POST', '/v1/nodes/vm-1/taints', { body: node });
    stub.on('GET', '/v1/nodes', { body: { items: [node] } });
    expect(await berth('node', 'taint', 'node/vm-1', 'dedicated=gpu:NoSchedule', 'spot-')).toBe(EXIT.OK);
    expect(stub.requests[0]!.json).toEqual({
      add: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
      remove: [{ key: 'spot' }],
    });
    expect(io.output()).toBe('node/vm-1 tainted\n');
    expect(await berth('get', 'nodes', '-o', 'wide')).toBe(EXIT.OK);
    expect(io.output()).toMatch(/TAINTS/);
    expect(io.output()).toMatch(/dedicated=gpu:NoSchedule/);
  });

  it("shows the server's refusal of an effect it does not support, and a usage error for a malformed taint", async () => {
    stub.on('POST', '/v1/nodes/vm-1/taints', () =>
      problem(422, 'INVALID', 'invalid request', [
        { path: 'add[0].effect', message: 'must be NoSchedule or PreferNoSchedule' },
      ]),
    );
    expect(await berth('node', 'taint', 'vm-1', 'k=v:NoExecute')).not.toBe(EXIT.OK);
    expect(io.errors()).toContain('add[0].effect');
    expect(await berth('node', 'taint', 'vm-1', 'nocolon')).toBe(EXIT.USAGE);
  });
});

describe('berth describe node', () => {
  it('shows the taints and labels of a node', async () => {
    stub.on('GET', '/v1/nodes/vm-1', {
      body: {
        name: 'vm-1',
        status: 'Ready',
        condition: 'Ready',
        labels: { 'kubernetes.io/hostname': 'vm-1' },
        taints: [
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
          { key: 'spot', effect: 'PreferNoSchedule' },
        ],
        allocated: { cpu: 0.5, memoryBytes: 0, replicas: 2 },
      },
    });
    expect(await berth('describe', 'node/vm-1')).toBe(EXIT.OK);
    expect(io.output()).toMatch(/^Taints: +dedicated=gpu:NoSchedule, spot:PreferNoSchedule$/m);
    expect(io.output()).toMatch(/^Labels: +kubernetes\.io\/hostname=vm-1$/m);
  });
});
