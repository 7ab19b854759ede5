import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demuxDockerStream } from '../../agent/log-tail.ts';
import type { AssignedContainer, StatusReport } from '../../common/agent-protocol.ts';
import { assignedSecurity, PodSecurityContext, SecurityContext } from '../../common/security-context.ts';
import {
  type AgentProcess,
  allReady,
  cleanupDir,
  docker,
  HTTPD_1,
  httpdReplica,
  nodeContainers,
  removeNodeContainers,
  replicaOf,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { FakeControlPlane } from './support/fake-control-plane.ts';

/** The test image with a non-root USER, as a hardened image sets it (built here from berth-test/httpd:1). */
const NON_ROOT_IMAGE = 'berth-test/httpd-nonroot:1';

/** The securityContext the control plane sends for a pod's and a container's contexts as written. */
const securityOf = (pod: object | undefined, container: object | undefined) => ({
  securityContext: assignedSecurity(
    pod ? PodSecurityContext.parse(pod) : undefined,
    container ? SecurityContext.parse(container) : undefined,
  ).securityContext,
});

/** Runs a command in a container: its output and exit code. */
async function execIn(id: string, cmd: string[]): Promise<{ output: string; exitCode: number | null }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((r) => stream.once('end', r));
  return {
    output: demuxDockerStream(Buffer.concat(chunks)).trim(),
    exitCode: (await exec.inspect()).ExitCode,
  };
}

/** A field of /proc/self/status as the container's own process sees it. */
async function procStatus(id: string, field: string): Promise<string> {
  const { output } = await execIn(id, ['sh', '-c', `grep '^${field}:' /proc/self/status`]);
  return output.replace(`${field}:`, '').trim();
}

const CAP_CHOWN = 0n;
const CAP_DAC_OVERRIDE = 1n;
const CAP_NET_BIND_SERVICE = 10n;
const CAP_NET_RAW = 13n;
const bit = (mask: string, n: bigint) => (BigInt(`0x${mask}`) >> n) & 1n;

describe('berth-agent honours the pod and container securityContext on the real engine', () => {
  const node = uniqueNode('e2e-sec');
  let cp: FakeControlPlane;
  let agent: AgentProcess;
  let dataDir: string;

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    // The legacy builder needs no buildx plugin; the Dockerfile only adds a USER.
    execFileSync('docker', ['build', '-q', '-t', NON_ROOT_IMAGE, '-'], {
      input: `FROM ${HTTPD_1}\nUSER 10001\n`,
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
    agent = startAgentProcess({ server: cp.url, name: node, dataDir, joinToken: cp.joinToken });
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await cp?.close();
    await cleanupDir(dataDir);
    if (cp?.protocolErrors.length) throw new Error(`protocol errors: ${cp.protocolErrors.join('; ')}`);
  });

  it('runs each field as Kubernetes means it, and never starts a root image under runAsNonRoot', async () => {
    const pod = (c: Partial<AssignedContainer>) => httpdReplica({}, c);
    // The hardened pod of the common guides, on an image whose USER is 10001.
    const hardened = pod({
      image: NON_ROOT_IMAGE,
      ...securityOf(
        {
          runAsNonRoot: true,
          fsGroup: 2000,
          supplementalGroups: [3000],
          seccompProfile: { type: 'RuntimeDefault' },
        },
        {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
        },
      ),
    });
    // runAsUser and runAsGroup over a root image.
    const user = pod(securityOf({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 3000 }, undefined));
    // A root container that drops one capability more, escalates as Kubernetes' default lets it, unfiltered.
    const root = pod(
      securityOf(
        { seccompProfile: { type: 'Unconfined' } },
        { allowPrivilegeEscalation: true, capabilities: { drop: ['CHOWN'] } },
      ),
    );
    const privileged = pod(securityOf(undefined, { privileged: true }));
    // A root image under runAsNonRoot: refused before anything is created.
    const refused = pod(securityOf({ runAsNonRoot: true }, undefined));
    cp.setAssignments(node, [hardened, user, root, privileged, refused]);
    // A privileged container starts where the engine itself holds every capability (not in every
    // sandbox: Docker then fails its start, and says so).
    const privilegedSettled = (r: StatusReport) => {
      const s = replicaOf(r, privileged.id);
      return s?.ready === true || (s?.phase === 'Failed' && s.containers[0]?.containerId !== undefined);
    };
    const { report } = await cp.waitForReport(
      node,
      (r) =>
        allReady([hardened.id, user.id, root.id])(r) &&
        privilegedSettled(r) &&
        replicaOf(r, refused.id)?.phase === 'Pending',
      60_000,
    );
    const idOf = (id: string) => replicaOf(report, id)!.containers[0]!.containerId!;

    // The hardened pod: its image's user, fsGroup and supplementalGroups, nothing written to /,
    // no capability but NET_BIND_SERVICE even in the bounding set, no new privileges, seccomp on.
    const h = idOf(hardened.id);
    expect((await execIn(h, ['id', '-u'])).output).toBe('10001');
    expect((await execIn(h, ['id', '-G'])).output.split(' ')).toEqual(
      expect.arrayContaining(['2000', '3000']),
    );
    const write = await execIn(h, ['sh', '-c', 'echo x > /probe']);
    expect(write.exitCode).not.toBe(0);
    expect(write.output).toMatch(/Read-only file system/);
    expect(BigInt(`0x${await procStatus(h, 'CapBnd')}`)).toBe(1n << CAP_NET_BIND_SERVICE);
    expect(await procStatus(h, 'NoNewPrivs')).toBe('1');
    expect(await procStatus(h, 'Seccomp')).toBe('2');

    // runAsUser:runAsGroup.
    const u = idOf(user.id);
    expect((await execIn(u, ['id', '-u'])).output).toBe('1000');
    expect((await execIn(u, ['id', '-g'])).output).toBe('3000');

    // The root container: CHOWN gone from CapEff (and NET_RAW, Berth's default), the rest of Docker's
    // defaults there; escalation allowed; no seccomp filter.
    const r = idOf(root.id);
    const capEff = await procStatus(r, 'CapEff');
    expect(bit(capEff, CAP_CHOWN)).toBe(0n);
    expect(bit(capEff, CAP_NET_RAW)).toBe(0n);
    expect(bit(capEff, CAP_DAC_OVERRIDE)).toBe(1n);
    const chown = await execIn(r, ['chown', '1', '/tmp']);
    expect(chown.exitCode).not.toBe(0);
    expect(chown.output).toMatch(/Operation not permitted/);
    expect(await procStatus(r, 'NoNewPrivs')).toBe('0');
    expect(await procStatus(r, 'Seccomp')).toBe('0');

    // Privileged: Docker is asked for it, and where it can, every capability the kernel has is there.
    const p = idOf(privileged.id);
    const made = (await docker.getContainer(p).inspect()).HostConfig;
    expect(made.Privileged).toBe(true);
    expect(made.SecurityOpt ?? []).not.toContain('no-new-privileges');
    const kernelCaps =
      (1n << (BigInt(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()) + 1n)) - 1n;
    if (replicaOf(report, privileged.id)?.ready) {
      expect(BigInt(`0x${await procStatus(p, 'CapEff')}`)).toBe(kernelCaps);
    } else {
      expect(replicaOf(report, privileged.id)?.message).toMatch(
        /unable to apply caps: operation not permitted/,
      );
      const ownBounding = BigInt(
        `0x${/CapBnd:\s+([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]}`,
      );
      expect(ownBounding).not.toBe(kernelCaps);
    }

    // The root image under runAsNonRoot: Pending with the kubelet's reason, and no container at all.
    expect(replicaOf(report, refused.id)).toMatchObject({
      phase: 'Pending',
      ready: false,
      message: `CreateContainerConfigError: container has runAsNonRoot and image will run as root (pod: "${refused.id}", container: web)`,
      containers: [{ name: 'web', state: 'waiting', reason: 'CreateContainerConfigError' }],
    });
    const all = await nodeContainers(node);
    expect(all.filter((c) => c.Labels['berth.dev/replica'] === refused.id)).toEqual([]);
    expect(all.filter((c) => c.Labels['berth.dev/replica'] === hardened.id)).toHaveLength(1);
  });
});
