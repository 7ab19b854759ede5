import type { HostPort } from '../../common/agent-protocol.ts';
import type { NamespaceNetwork } from '../namespace-network.ts';
import type { ContainerSample } from '../usage.ts';

/**
 * What the agent needs of a container runtime, at the level of one container. The Docker Engine
 * implementation is docker-driver.ts; tests may pass a fake.
 */
export interface Driver {
  /** Resolves when the runtime answers. */
  ping(): Promise<void>;
  imageExists(image: string): Promise<boolean>;
  /** The user an image runs as (its USER; '' when it sets none); rejects when the image is absent. */
  imageUser(image: string): Promise<string>;
  /** Pulls `image` (a tag defaults to latest); rejects with the registry's own message. */
  pullImage(image: string, auth?: RegistryAuth): Promise<void>;
  /** Makes image `ref` from a tar of a root file system (the pod's network holder, pause-image.ts). */
  importImage(ref: string, tar: Buffer): Promise<void>;
  /** Creates (does not start) a container; rejects with NameConflictError when the name is taken. */
  createContainer(spec: CreateSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM (through the container's init), then SIGKILL after graceSeconds. Stopped already: fine. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  /** Forced removal; an absent container is fine. */
  removeContainer(id: string): Promise<void>;
  /** undefined when the container does not exist. */
  inspectContainer(idOrName: string): Promise<ContainerInfo | undefined>;
  /**
   * Every container (running or not) carrying all the given labels. `detailed: false` skips the
   * per-container inspection: exit codes, start times and networkFrom are then missing.
   */
  listContainers(labels: Record<string, string>, detailed?: boolean): Promise<ContainerInfo[]>;
  /**
   * Removes a named volume if it carries all `labels` ('absent' when it does not exist or is not
   * the one meant); 'in-use' while a container holds it. Optional: fakes may lack it.
   */
  removeVolume?(name: string, labels: Record<string, string>): Promise<'removed' | 'absent' | 'in-use'>;
  /**
   * The container's CPU counter and working set (agent/usage.ts); undefined when it is not running
   * or absent. `withPrevious` asks the runtime for an earlier reading too (the engine then waits
   * about a second), for a container with no sample of the agent's own yet. Optional: fakes may
   * lack it (no usage is reported).
   */
  containerStats?(id: string, withPrevious: boolean): Promise<ContainerSample | undefined>;
  /** Runs a command inside a running container; exit code, or rejects on timeout. */
  exec(id: string, command: string[], timeoutMs: number): Promise<number>;
  /** The last `tail` lines of stdout and stderr, oldest first (stamped at or after `since` when given). */
  logs(id: string, tail: number, since?: string): Promise<LogLine[]>;
  /**
   * Streams lifecycle events of the containers labelled berth.dev/node=<node>. `onResync` is called
   * each time the stream (re)connects, since events may have been missed while it was down.
   */
  watchEvents(node: string, onEvent: (e: ContainerEvent) => void, onResync: () => void): { close(): void };
}

export interface RegistryAuth {
  serveraddress: string;
  username: string;
  password: string;
}

/** A container as the agent asks for it: plain data, so its hash identifies the configuration. */
export interface CreateSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Kubernetes `command`: replaces the image's entrypoint (and then its CMD). */
  entrypoint?: string[];
  /** Kubernetes `args`. */
  cmd?: string[];
  workingDir?: string;
  env: string[];
  /** Ports published by this container (the pod's network owner publishes those of every container). */
  publish: { containerPort: number; hostPort?: number; protocol: 'TCP' | 'UDP' }[];
  hostIp: string;
  /** Join the network namespace of this container instead of getting one. */
  networkFrom?: string;
  /** The bridge network a container that owns its network namespace is attached to (created on demand). */
  network: NamespaceNetwork;
  /** The cluster's DNS as resolv.conf (agent/services); absent: the engine's default. Owners only. */
  dns?: { servers: string[]; search: string[]; options: string[] };
  nanoCpus?: number;
  /** A hard limit, swap included (none beyond it). */
  memoryBytes?: number;
  /** Most processes and threads in the container; absent: no limit. */
  pidsLimit?: number;
  /** NVIDIA GPUs (resources nvidia.com/gpu) the engine gives the container; absent: none. */
  gpus?: number;
  security: ContainerSecurity;
  /**
   * Directories of the node bound into the container (the pod's volumes, agent/pod-volumes.ts); with
   * `volume`, `source` is a Docker named volume, made with these labels on first use
   * (agent/claim-volumes.ts).
   */
  mounts?: {
    source: string;
    target: string;
    readOnly: boolean;
    volume?: { labels: Record<string, string> };
  }[];
}

/** What a process in the container may do to the kernel (see container-defaults.ts). */
export interface ContainerSecurity {
  /** no-new-privileges: setuid binaries and file capabilities grant nothing more. */
  noNewPrivileges: boolean;
  /** Capability names (without CAP_) added to or dropped from the runtime's default set. */
  capAdd: string[];
  capDrop: string[];
  /** Docker's User, "uid" or "uid:gid" (runAsUser, runAsGroup); absent: the image's own. */
  user?: string;
  /** Supplementary groups of the container's processes (fsGroup, supplementalGroups). */
  groupAdd?: string[];
  readonlyRootfs?: boolean;
  /** Every capability and device (Kubernetes' privileged); the lists above are then empty. */
  privileged?: boolean;
  /** No seccomp filter (seccompProfile Unconfined); absent: the engine's default profile. */
  seccompUnconfined?: boolean;
}

export interface ContainerInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  running: boolean;
  /** Created but never started: Docker's "created" state. */
  created: boolean;
  exitCode?: number;
  oomKilled?: boolean;
  startedAt?: number;
  finishedAt?: number;
  hostPorts: HostPort[];
  /** The container's own address on its network (the owner's for pod members). */
  ip?: string;
  /** For a pod member: the id of the container whose network namespace it joined. */
  networkFrom?: string;
}

export interface ContainerEvent {
  action: 'start' | 'die' | 'oom' | 'destroy';
  id: string;
  labels: Record<string, string>;
  exitCode?: number;
}

export interface LogLine {
  /** RFC 3339 with nanoseconds, as the runtime stamped it; sorts as text. */
  time: string;
  text: string;
}

export class NameConflictError extends Error {
  constructor(name: string) {
    super(`a container named ${name} already exists`);
    this.name = 'NameConflictError';
  }
}

/**
 * The runtime did not answer at all (not running, restarting, its socket gone). Nothing was
 * learned about the container: callers wait for the runtime instead of counting a failure.
 */
export class EngineUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}
