import type { HostPort } from '../../common/agent-protocol.ts';
import {
  type ContainerEvent,
  type ContainerInfo,
  type CreateSpec,
  type Driver,
  EngineUnavailableError,
  type LogLine,
  NameConflictError,
  type RegistryAuth,
} from '../driver/driver.ts';

interface FakeContainer {
  id: string;
  spec: CreateSpec;
  running: boolean;
  created: boolean;
  exitCode?: number;
  startedAt?: number;
  hostPorts: HostPort[];
}

/** An in-memory container runtime for unit tests: records calls, emits events like Docker's. */
export class FakeDriver implements Driver {
  readonly images = new Set<string>();
  /** image → the registry's error message. */
  readonly pullErrors = new Map<string, string>();
  /** image → its configured user (USER); '' when absent. */
  readonly imageUsers = new Map<string, string>();
  readonly calls: string[] = [];
  readonly containers = new Map<string, FakeContainer>();
  execExitCode = 0;
  /** Answers execs by command (its exit code, or a rejection); execExitCode when absent. */
  execHandler: ((id: string, command: string[], timeoutMs: number) => Promise<number> | number) | undefined;
  /** Every exec run: container name and command. */
  readonly execs: { name: string; command: string[]; at: number }[] = [];
  /** Every stop asked for, with the grace it was given. */
  readonly stops: { name: string; graceSeconds: number; at: number }[] = [];
  /** The runtime is not answering (stopped or restarting): every call fails as Docker's would. */
  down = false;
  private seq = 0;
  private port = 30000;
  private readonly watchers = new Set<(e: ContainerEvent) => void>();

  async ping(): Promise<void> {
    await this.answer();
  }

  async imageExists(image: string): Promise<boolean> {
    await this.answer();
    return this.images.has(image);
  }

  async imageUser(image: string): Promise<string> {
    await this.answer();
    if (!this.images.has(image)) throw new Error(`No such image: ${image}`);
    return this.imageUsers.get(image) ?? '';
  }

  async pullImage(image: string, auth?: RegistryAuth): Promise<void> {
    this.calls.push(`pull ${image}${auth ? ` as ${auth.username}` : ''}`);
    await this.answer();
    const err = this.pullErrors.get(image);
    if (err) throw new Error(err);
    this.images.add(image);
  }

  async importImage(ref: string, _tar: Buffer): Promise<void> {
    this.calls.push(`import ${ref}`);
    await this.answer();
    this.images.add(ref);
  }

  async createContainer(spec: CreateSpec): Promise<string> {
    await this.answer();
    if ([...this.containers.values()].some((c) => c.spec.name === spec.name))
      throw new NameConflictError(spec.name);
    if (!this.images.has(spec.image)) throw new Error(`No such image: ${spec.image}`);
    const id = `c${++this.seq}`;
    this.containers.set(id, { id, spec, running: false, created: true, hostPorts: [] });
    this.calls.push(`create ${spec.name}${spec.networkFrom ? ` in ${spec.networkFrom}` : ''}`);
    return id;
  }

  /** Puts a container in place as if an earlier agent had made it. */
  seed(spec: CreateSpec, running = true): string {
    const id = `c${++this.seq}`;
    this.containers.set(id, {
      id,
      spec,
      running,
      created: false,
      ...(running ? { startedAt: Date.now() } : { exitCode: 0 }),
      hostPorts: running
        ? spec.publish.map((p) => ({ containerPort: p.containerPort, hostPort: this.port++ }))
        : [],
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    await this.answer();
    const c = this.must(id);
    this.calls.push(`start ${c.spec.name}`);
    c.running = true;
    c.created = false;
    c.startedAt = Date.now();
    c.exitCode = undefined;
    c.hostPorts = c.spec.publish.map((p) => ({
      containerPort: p.containerPort,
      hostPort: p.hostPort ?? this.port++,
    }));
    this.emit(c, 'start');
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    await this.answer();
    const c = this.containers.get(id);
    if (c) this.stops.push({ name: c.spec.name, graceSeconds, at: Date.now() });
    if (!c?.running) return;
    this.calls.push(`stop ${c.spec.name}`);
    this.exit(c, 143);
  }

  async removeContainer(id: string): Promise<void> {
    await this.answer();
    const c = this.containers.get(id);
    if (!c) return;
    this.calls.push(`remove ${c.spec.name}`);
    if (c.running) this.exit(c, 137);
    this.containers.delete(id);
    this.emit(c, 'destroy');
  }

  /** The process in the container ends by itself. */
  crash(id: string, exitCode: number): void {
    this.exit(this.must(id), exitCode);
  }

  async inspectContainer(idOrName: string): Promise<ContainerInfo | undefined> {
    await this.answer();
    const c =
      this.containers.get(idOrName) ?? [...this.containers.values()].find((x) => x.spec.name === idOrName);
    return c && this.info(c);
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerInfo[]> {
    await this.answer();
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => c.spec.labels[k] === v))
      .map((c) => this.info(c));
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<number> {
    this.execs.push({ name: this.containers.get(id)?.spec.name ?? id, command, at: Date.now() });
    return this.execHandler ? await this.execHandler(id, command, timeoutMs) : this.execExitCode;
  }

  async logs(id: string): Promise<LogLine[]> {
    return [{ time: '2024-01-01T00:00:00Z', text: `log of ${this.must(id).spec.name}` }];
  }

  watchEvents(_node: string, onEvent: (e: ContainerEvent) => void, onResync: () => void): { close(): void } {
    this.watchers.add(onEvent);
    onResync();
    return { close: () => this.watchers.delete(onEvent) };
  }

  byName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.spec.name === name);
  }

  private exit(c: FakeContainer, code: number): void {
    c.running = false;
    c.exitCode = code;
    this.emit(c, 'die', code);
  }

  private emit(c: FakeContainer, action: ContainerEvent['action'], exitCode?: number): void {
    const e: ContainerEvent = {
      action,
      id: c.id,
      labels: c.spec.labels,
      ...(exitCode !== undefined ? { exitCode } : {}),
    };
    // Docker delivers events asynchronously.
    setTimeout(() => {
      for (const w of this.watchers) w(e);
    }, 1);
  }

  private info(c: FakeContainer): ContainerInfo {
    return {
      id: c.id,
      name: c.spec.name,
      labels: c.spec.labels,
      running: c.running,
      created: c.created,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
      hostPorts: c.hostPorts,
      ip: '172.17.0.9',
      ...(c.spec.networkFrom ? { networkFrom: c.spec.networkFrom } : {}),
    };
  }

  private async answer(): Promise<void> {
    await tick();
    if (this.down) throw new EngineUnavailableError('the Docker Engine did not answer: connect ECONNREFUSED');
  }

  private must(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`No such container: ${id}`);
    return c;
  }
}

function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 1));
}
