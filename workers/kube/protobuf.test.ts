import { describe, expect, it } from 'vitest';
import { decodeKubeProtobuf, ProtobufError, ProtobufKindError } from './protobuf.ts';
import { KINDS, MESSAGES, SPECIAL_MESSAGES } from './protobuf-schemas.ts';
import { readVarint, WireError } from './protobuf-wire.ts';

/**
 * Bodies kubectl v1.32 sent (captured from `kubectl create ...`; test/e2e/kubectl-create.test.ts
 * captures every kind again and compares with `--dry-run=client -o json`), and bodies built here
 * for what kubectl does not send.
 */
const KUBECTL = {
  // kubectl create configmap cm1 --from-literal=a=b --from-literal=c=d
  configMap:
    '6b3873000a0f0a0276311209436f6e6669674d617012250a130a03636d3112001a0022002a0032003800420012060a016112016212060a01631201641a002200',
  // kubectl create secret generic s1 --from-literal=a=b --type=Opaque
  secret:
    '6b3873000a0c0a027631120653656372657412240a120a02733112001a0022002a0032003800420012060a01611201621a064f70617175651a002200',
  // kubectl create serviceaccount sa1
  serviceAccount:
    '6b3873000a140a027631120e536572766963654163636f756e7412150a130a0373613112001a0022002a003200380042001a002200',
  // kubectl create namespace ns1
  namespace:
    '6b3873000a0f0a02763112094e616d657370616365121b0a130a036e733112001a0022002a0032003800420012001a020a001a002200',
  // kubectl create service clusterip svc1 --tcp=80:8080
  service:
    '6b3873000a0d0a027631120753657276696365126c0a210a047376633112001a0022002a003200380042005a0b0a0361707012047376633112430a1b0a0738302d38303830120354435018502207080010903f1a002800120b0a036170701204737663311a002209436c757374657249503a00420052005a00600068001a020a001a002200',
  // kubectl create deployment d1 --image=nginx --replicas=3 --port=80
  deployment:
    '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b4010a1d0a02643112001a0022002a003200380042005a090a03617070120264311284010803120b0a090a03617070120264311a6b0a1b0a0012001a0022002a003200380042005a090a0361707012026431124c122e0a056e67696e7812056e67696e782a00320a0a001000185022002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200',
};

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => Number.parseInt(b, 16));

// A small encoder for the bodies kubectl does not send.
const utf8 = (s: string) => [...new TextEncoder().encode(s)];
function varint(n: bigint | number): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return out;
}
const num = (field: number, n: bigint | number) => [...varint(field << 3), ...varint(n)];
const len = (field: number, bytes: number[]) => [
  ...varint((field << 3) | 2),
  ...varint(bytes.length),
  ...bytes,
];
const str = (field: number, s: string) => len(field, utf8(s));
function envelope(apiVersion: string, kind: string, raw: number[], extra: number[] = []): Uint8Array {
  return new Uint8Array([
    ...utf8('k8s\0'),
    ...len(1, [...str(1, apiVersion), ...str(2, kind)]),
    ...len(2, raw),
    ...extra,
  ]);
}
const meta = (name: string) => len(1, str(1, name));

describe('decodeKubeProtobuf, on what kubectl sends', () => {
  it('reads a ConfigMap, Secret (data as base64), ServiceAccount and Namespace', () => {
    expect(decodeKubeProtobuf(hex(KUBECTL.configMap))).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm1', creationTimestamp: null },
      data: { a: 'b', c: 'd' },
    });
    expect(decodeKubeProtobuf(hex(KUBECTL.secret))).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's1', creationTimestamp: null },
      data: { a: 'Yg==' },
      type: 'Opaque',
    });
    expect(decodeKubeProtobuf(hex(KUBECTL.serviceAccount))).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'sa1', creationTimestamp: null },
    });
    expect(decodeKubeProtobuf(hex(KUBECTL.namespace))).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'ns1', creationTimestamp: null },
      spec: {},
      status: {},
    });
  });

  it('reads a Service (an int-or-string targetPort) and a Deployment as kubectl would send them as JSON', () => {
    expect(decodeKubeProtobuf(hex(KUBECTL.service))).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc1', creationTimestamp: null, labels: { app: 'svc1' } },
      spec: {
        ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }],
        selector: { app: 'svc1' },
        type: 'ClusterIP',
      },
      status: { loadBalancer: {} },
    });
    // Every Go field kubectl's message carries is there at its zero value (stdin: false, ...):
    // those are left out, as Go's JSON does; set pointers (replicas) and empty structs stay.
    expect(decodeKubeProtobuf(hex(KUBECTL.deployment))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd1', creationTimestamp: null, labels: { app: 'd1' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'd1' } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'd1' } },
          spec: {
            containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], resources: {} }],
          },
        },
        strategy: {},
      },
      status: {},
    });
  });
});

describe('decodeKubeProtobuf, on bodies built here', () => {
  it('keeps a pointer set to zero and drops a plain zero', () => {
    const spec = [...num(1, 0), ...num(5, 0), ...num(7, 0)]; // replicas, minReadySeconds, paused
    expect(decodeKubeProtobuf(envelope('apps/v1', 'Deployment', [...meta('d'), ...len(2, spec)]))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { replicas: 0 },
    });
  });

  it('reads negative numbers, a packed list, times, quantities and a string port', () => {
    // Container: name, resources.limits {cpu: 500m}, ports[0].hostPort -1 (a 10-byte varint).
    const limits = len(1, [...str(1, 'cpu'), ...len(2, str(1, '500m'))]);
    const container = [...str(1, 'c'), ...len(8, limits), ...len(6, num(2, -1))];
    // PodSecurityContext.supplementalGroups (4), packed as proto3 writers do.
    const security = len(4, [...varint(1000), ...varint(2000)]);
    const podSpec = [...len(2, container), ...len(14, security)];
    const job = [
      ...len(1, [...str(1, 'j'), ...len(9, [...num(1, 1_700_000_000), ...num(2, 5)])]),
      ...len(2, [...len(6, len(2, podSpec)), ...num(3, 0)]), // template, activeDeadlineSeconds: 0
    ];
    const decoded = decodeKubeProtobuf(envelope('batch/v1', 'Job', job));
    expect(decoded.metadata).toEqual({ name: 'j', deletionTimestamp: '2023-11-14T22:13:20Z' });
    expect(decoded.spec).toEqual({
      activeDeadlineSeconds: 0,
      template: {
        spec: {
          containers: [{ name: 'c', resources: { limits: { cpu: '500m' } }, ports: [{ hostPort: -1 }] }],
          securityContext: { supplementalGroups: [1000, 2000] },
        },
      },
    });
    // An IntOrString of type 1 is its string; a Service port's targetPort by name.
    const port = len(1, [...num(3, 80), ...len(4, [...num(1, 1), ...str(3, 'http')])]);
    expect(decodeKubeProtobuf(envelope('v1', 'Service', [...meta('s'), ...len(2, port)])).spec).toEqual({
      ports: [{ port: 80, targetPort: 'http' }],
    });
  });

  it('merges inline messages into their parent, as Go embeds them', () => {
    // Volume{name, volumeSource{configMap{localObjectReference{name}, defaultMode: 0}}}
    const configMap = [...len(1, str(1, 'settings')), ...num(3, 0)];
    const volume = [...str(1, 'config'), ...len(2, len(19, configMap))];
    // Probe{handler{httpGet{path, port}}, periodSeconds}
    const probe = [...len(1, len(2, [...str(1, '/healthz'), ...len(2, num(2, 8080))])), ...num(4, 5)];
    const podSpec = [...len(1, volume), ...len(2, [...str(1, 'c'), ...len(11, probe)])];
    const deployment = [...meta('d'), ...len(2, len(3, len(2, podSpec)))];
    expect(decodeKubeProtobuf(envelope('apps/v1', 'Deployment', deployment)).spec).toEqual({
      template: {
        spec: {
          volumes: [{ name: 'config', configMap: { name: 'settings', defaultMode: 0 } }],
          containers: [
            { name: 'c', readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 } },
          ],
        },
      },
    });
  });

  it('reads a Secret with binary data, stringData and immutable: false', () => {
    const data = len(2, [...str(1, 'key'), ...len(2, [0xff, 0x00, 0x01])]);
    const stringData = len(4, [...str(1, 'password'), ...str(2, 'p\u00e4ss')]);
    const body = [...meta('s'), ...data, ...str(3, 'Opaque'), ...stringData, ...num(5, 0)];
    expect(decodeKubeProtobuf(envelope('v1', 'Secret', body))).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { key: '/wAB' },
      type: 'Opaque',
      stringData: { password: 'p\u00e4ss' },
      immutable: false,
    });
  });

  it('keeps a map key "__proto__" as a key, as JSON.parse does', () => {
    const body = envelope('v1', 'ConfigMap', [
      ...meta('c'),
      ...len(2, [...str(1, '__proto__'), ...str(2, 'x')]),
    ]);
    const decoded = decodeKubeProtobuf(body);
    expect(decoded.data).toEqual(JSON.parse('{"__proto__":"x"}'));
    expect(Object.keys(decoded.data as object)).toEqual(['__proto__']);
  });

  it('refuses a field it does not know by its number and path, never dropping it', () => {
    const body = envelope('v1', 'ConfigMap', [...meta('c'), ...num(9, 1)]);
    expect(() => decodeKubeProtobuf(body)).toThrow(/field 9 of ConfigMap is not one Berth knows/);
    const container = len(2, [...str(1, 'c'), ...num(99, 1)]);
    const deep = envelope('apps/v1', 'Deployment', [...meta('d'), ...len(2, len(3, len(2, container)))]);
    expect(() => decodeKubeProtobuf(deep)).toThrow(
      /field 99 of Container at spec\.template\.spec\.containers\[0\] is not one Berth knows/,
    );
  });

  it('refuses what is not a protobuf object of a kind it reads', () => {
    expect(() => decodeKubeProtobuf(utf8Bytes('{"kind":"ConfigMap"}'))).toThrow(ProtobufError);
    expect(() => decodeKubeProtobuf(envelope('v1', 'Pod', meta('p')))).toThrow(ProtobufKindError);
    expect(() => decodeKubeProtobuf(envelope('v1', 'ConfigMap', meta('c'), str(3, 'gzip')))).toThrow(
      /encoded as "gzip"/,
    );
    // A name sent as a number, a message cut short, a string that is not UTF-8.
    expect(() => decodeKubeProtobuf(envelope('v1', 'ConfigMap', len(1, num(1, 5))))).toThrow(
      /metadata\.name/,
    );
    expect(() => decodeKubeProtobuf(hex(KUBECTL.configMap).subarray(0, 40))).toThrow(ProtobufError);
    expect(() => decodeKubeProtobuf(envelope('v1', 'ConfigMap', len(1, len(1, [0xc3]))))).toThrow(/UTF-8/);
  });
});

describe('the wire reader and the schema table', () => {
  it('reads varints up to 64 bits and no further', () => {
    expect(readVarint(new Uint8Array(varint(-1)), 0)).toEqual([2n ** 64n - 1n, 10]);
    expect(() => readVarint(new Uint8Array(11).fill(0x80), 0)).toThrow(WireError);
    expect(() => readVarint(new Uint8Array([0x80]), 0)).toThrow(WireError);
  });

  it('names only messages it defines or decodes itself', () => {
    const special = new Set<string>(SPECIAL_MESSAGES);
    for (const [name, fields] of MESSAGES)
      for (const f of fields.values())
        if (!f.scalar)
          expect(MESSAGES.has(f.type) || special.has(f.type), `${name}.${f.name}: ${f.type}`).toBe(true);
    for (const message of Object.values(KINDS)) expect(MESSAGES.has(message)).toBe(true);
  });
});

function utf8Bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
