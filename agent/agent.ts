import { join } from 'node:path';
import { agentFeatureLabels } from '../common/agent-features.ts';
import { INGRESS_HTTPS_LABEL } from '../common/ingress.ts';
import { ApiClient, ApiError } from './api-client.ts';
import { ClaimVolumes } from './claim-volumes.ts';
import { type AgentConfig, defaultVolumeDir } from './config.ts';
import { DEFAULT_PIDS_LIMIT } from './container-defaults.ts';
import { DockerDriver } from './driver/docker-driver.ts';
import type { Driver } from './driver/driver.ts';
import { forgetJoinToken } from './env-file.ts';
import { runAttachSession, runExecSession } from './exec-session.ts';
import { httpFetch, httpFetchWith } from './http-fetch.ts';
import { ImagePuller } from './image-puller.ts';
import { createLogger, errorMessage, type Logger } from './log.ts';
import { MetadataGuard } from './metadata-guard.ts';
import { allocatableDisk } from './node-disk.ts';
import { detectAddress, nodeCapacity, platformLabels } from './node-info.ts';
import { PodManager } from './pod-manager.ts';
import { runPortForwardSession } from './port-forward-session.ts';
import { type CertificateFetcher, NodeCertificateSet } from './services/node-certificates.ts';
import { NodeIngress } from './services/node-ingress.ts';
import { loadServiceMap, saveServiceMap } from './services/saved-map.ts';
import { dockerBridges, ServiceNetwork } from './services/service-network.ts';
import { type IdentityError, Session } from './session.ts';
import { StartupLedger } from './startup-ledger.ts';
import { StateStore } from './state-store.ts';
import { StatusReporter } from './status-reporter.ts';
import { SyncLoop } from './sync-loop.ts';
import { UsageSampler } from './usage-sampler.ts';
import { AGENT_VERSION } from './version.ts';

export interface RunningAgent {
  readonly name: string;
  readonly address: string;
  readonly nodeId: string | undefined;
  /** Stops polling, reporting, probing and watching; containers keep running. */
  stop(): Promise<void>;
  /**
   * Settles when the agent stopped by itself because the control plane refused its node
   * credential (the node was deleted or reset); it never settles otherwise.
   */
  readonly failed: Promise<IdentityError>;
}

/**
 * Starts an agent: checks the runtime answers, registers (or reuses the stored credential),
 * resumes the last persisted assignments at once (so an agent restarted during an outage keeps
 * serving), then long-polls for changes and reports status. Resolves once all loops run.
 * Rejects when the runtime does not answer, or with an IdentityError when the node cannot be
 * this node (no stored credential and no join token, a refused join token or credential).
 * Once its credential is held, the join token is removed from `config.envFile`.
 */
export async function startAgent(config: AgentConfig): Promise<RunningAgent> {
  const log =
    config.logger ??
    createLogger(config.logLevel ?? 'info', undefined, { component: 'agent', node: config.name });
  const driver = config.driver ?? new DockerDriver(undefined, { log });
  try {
    await driver.ping();
  } catch (e) {
    throw new Error(
      `the container runtime does not answer (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'}): ${errorMessage(e)}`,
    );
  }
  const address = config.address ?? detectAddress();
  const server = config.server.replace(/\/+$/, '');
  const abort = new AbortController();
  const store = new StateStore(config.dataDir);
  await store.init();
  const api = new ApiClient(
    server,
    `berth-agent/${AGENT_VERSION}`,
    config.serverTls ? httpFetchWith(config.serverTls) : httpFetch,
  );
  // Declared before the session: registration asks the reporter for a prompt report.
  let reporter: StatusReporter | undefined;
  let refusedWith: (e: IdentityError) => void = () => {};
  const failed = new Promise<IdentityError>((resolve) => {
    refusedWith = resolve;
  });
  const session = new Session(
    api,
    store,
    {
      server,
      name: config.name,
      // The operator's --labels win over the detected platform, as the kubelet's --node-labels do;
      // the feature labels are this build's own (common/agent-features.ts).
      labels: {
        ...platformLabels(),
        ...config.labels,
        ...agentFeatureLabels(),
        ...(config.ingressTlsListen ? { [INGRESS_HTTPS_LABEL]: 'true' } : {}),
      },
      address,
      joinToken: config.joinToken,
      extendedResources: config.extendedResources,
      ephemeralStorageBytes:
        driver instanceof DockerDriver ? await allocatableDisk(driver.docker, log) : undefined,
    },
    log,
    abort.signal,
    { onRegistered: () => reporter?.sendSoon(), onRefused: (e) => refusedWith(e) },
  );
  await session.open();
  if (config.envFile) await removeJoinToken(config.envFile, log);

  // Before any container runs: the metadata address is blocked (or the operator is told it is not).
  const metadata = new MetadataGuard({ allow: config.allowMetadata === true, log });
  await metadata.start();
  const services = await startServiceNetwork(config, driver, address, server, log);
  const nodeIngress = await startNodeIngress(config, services, log, {
    certificates: (etag, signal) => api.certificates(session.token, etag, signal),
    challenge: (token) => api.acmeChallenge(session.token, token, abort.signal),
    server,
    signal: abort.signal,
  });
  // Coalesced: many changes in one turn make one look at the replicas.
  let localQueued = false;
  const localChanged = () => {
    if (!services || localQueued) return;
    localQueued = true;
    setImmediate(() => {
      localQueued = false;
      const ready = manager.statuses().filter((s) => s.ready && s.phase === 'Running');
      services.setLocal(new Set(ready.map((s) => s.id)), manager.localEndpoints());
    });
  };

  const manager = new PodManager({
    driver,
    images: new ImagePuller(driver, log),
    node: config.name,
    address,
    log,
    onChange: (urgent) => {
      reporter?.markDirty(urgent);
      // A replica not ready or told to stop leaves rotation on this node at once.
      localChanged();
    },
    ...(services ? { containerDns: (namespace: string) => services.dnsFor(namespace) } : {}),
    containerPolicy: { pidsLimit: config.pidsLimit ?? DEFAULT_PIDS_LIMIT },
    startups: await StartupLedger.load(store, log),
    // Per node: agents of one machine may share the volume directory (agent/pod-volumes.ts).
    volumeRoots: {
      memory: join(config.volumeDir ?? defaultVolumeDir(process.env), config.name),
      disk: join(config.dataDir, 'volumes'),
    },
  });
  const capacity = nodeCapacity();
  // Started when the server asks for samples (the assignments say how often); until then none.
  const usage = new UsageSampler({
    ...(driver.containerStats ? { stats: driver.containerStats.bind(driver) } : {}),
    replicas: () => manager.statuses(),
    log,
  });
  reporter = new StatusReporter({
    log,
    heartbeatMs: (config.heartbeatSeconds ?? 10) * 1000,
    build: () => {
      const sample = usage.pending();
      return {
        replicas: manager.statuses(),
        capacity,
        allocatable: capacity,
        agentVersion: AGENT_VERSION,
        ...(sample ? { usage: sample } : {}),
      };
    },
    send: async (report) => {
      try {
        await api.status(session.token, report, abort.signal);
        if (report.usage) usage.sent(report.usage);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) session.refused(e);
        throw e;
      }
    },
  });

  manager.start();
  const persisted = await store.loadAssignments().catch((e: unknown) => {
    log.warn('ignoring unreadable saved assignments', { error: errorMessage(e) });
    return undefined;
  });
  const resumed =
    persisted && persisted.server === server && persisted.name === config.name ? persisted : undefined;
  if (resumed) {
    log.info('resuming saved assignments', { replicas: resumed.replicas.length, savedAt: resumed.savedAt });
    void manager.apply(resumed.replicas);
  }
  const claims = new ClaimVolumes({
    node: config.name,
    log,
    removeVolume: async (name, labels) =>
      driver.removeVolume ? driver.removeVolume(name, labels) : 'in-use',
    confirm: (uids) => api.releasedClaims(session.token, uids, abort.signal),
  });
  let savedServices: string | undefined;
  const execDeps = {
    server,
    token: () => session.token,
    tls: config.serverTls,
    docker: driver instanceof DockerDriver ? driver.docker : undefined,
    containerId: (replica: string, container: string) => manager.containerIdOf(replica, container),
    log,
  };
  const sync = new SyncLoop({
    claims,
    api,
    session,
    store,
    manager,
    log,
    server,
    node: config.name,
    waitSeconds: config.waitSeconds ?? 25,
    signal: abort.signal,
    onReconnect: () => reporter?.sendSoon(),
    onUsageInterval: (seconds) => usage.start(seconds * 1000),
    onExec: (req) => {
      void runExecSession(req, execDeps).catch((e: unknown) =>
        log.warn('exec session failed', { session: req.id, error: errorMessage(e) }),
      );
    },
    onAttach: (req) => {
      void runAttachSession(req, execDeps).catch((e: unknown) =>
        log.warn('attach session failed', { session: req.id, error: errorMessage(e) }),
      );
    },
    onPortForward: (req) => {
      void runPortForwardSession(req, {
        server,
        token: () => session.token,
        tls: config.serverTls,
        podAddress: (replica) => manager.podAddressOf(replica),
        log,
      }).catch((e: unknown) =>
        log.warn('port-forward session failed', { session: req.id, error: errorMessage(e) }),
      );
    },
    onServices: (map) => {
      if (!services) return;
      const key = JSON.stringify(map);
      if (key === savedServices) return;
      savedServices = key;
      void services.apply(map);
      nodeIngress?.ingress.setRoutes(map.routes ?? []);
      nodeIngress?.certificates?.refreshSoon();
      saveServiceMap(config.dataDir, {
        server,
        name: config.name,
        map,
        savedAt: new Date().toISOString(),
      }).catch((e: unknown) => log.warn('saving the service map failed', { error: errorMessage(e) }));
    },
  });
  sync.start(resumed ? { etag: resumed.etag, replicas: resumed.replicas } : undefined);
  reporter.start();
  log.info('agent started', { node: config.name, address, server, version: AGENT_VERSION });

  let stopping: Promise<void> | undefined;
  const agent: RunningAgent = {
    name: config.name,
    address,
    get nodeId() {
      return session.nodeId;
    },
    stop: () => {
      stopping ??= (async () => {
        abort.abort();
        claims.stop();
        usage.stop();
        metadata.stop();
        reporter.stop();
        await sync.stopped();
        await manager.stop();
        await nodeIngress?.ingress.close();
        await nodeIngress?.certificates?.stopped();
        await services?.stop();
        log.info('agent stopped; containers left running', { node: config.name });
      })();
      return stopping;
    },
    failed,
  };
  // Refused: nothing this agent does as the node is wanted any more. Its containers stay.
  void failed.then(() => agent.stop());
  return agent;
}

/**
 * The node's services inside the cluster (agent/services), resumed from the saved map so that a
 * restarted agent routes before it reaches the control plane; undefined where they cannot be
 * (not the Docker driver, no iptables: said once, pods run anyway).
 */
async function startServiceNetwork(
  config: AgentConfig,
  driver: Driver,
  address: string,
  server: string,
  log: Logger,
): Promise<ServiceNetwork | undefined> {
  if (!(driver instanceof DockerDriver)) return undefined;
  const docker = driver.docker;
  const info = (await docker.info().catch(() => ({}))) as { ID?: string; DockerRootDir?: string };
  const services = new ServiceNetwork({
    log,
    node: config.name,
    nodeAddress: config.nodePortAddress ?? address,
    // Two agents on one machine (two engines, or two nodes of one engine) keep their own rules.
    identity: `${info.ID ?? ''}\n${info.DockerRootDir ?? ''}\n${config.name}`,
    listBridges: () => dockerBridges(docker),
    ...(config.dnsUpstreams ? { upstreams: () => config.dnsUpstreams ?? [] } : {}),
  });
  const saved = await loadServiceMap(config.dataDir).catch((e: unknown) => {
    log.warn('ignoring an unreadable saved service map', { error: errorMessage(e) });
    return undefined;
  });
  const resumed = saved && saved.server === server && saved.name === config.name ? saved.map : undefined;
  if (!(await services.start(resumed))) return undefined;
  driver.networks.onReady = () => services.bridgesChanged();
  return services;
}

/**
 * The node's own ingress (`--ingress-listen`, `--ingress-tls-listen`), routed by the service map's
 * hosts and paths to the endpoints the service network knows (so it needs that network: the
 * Docker driver and iptables). Over HTTPS it serves the cluster's certificates, kept by
 * NodeCertificateSet; HTTP-01 answers come from the control plane either way.
 */
async function startNodeIngress(
  config: AgentConfig,
  services: ServiceNetwork | undefined,
  log: Logger,
  control: {
    certificates: CertificateFetcher;
    challenge: (token: string) => Promise<string | undefined>;
    server: string;
    signal: AbortSignal;
  },
): Promise<{ ingress: NodeIngress; certificates: NodeCertificateSet | undefined } | undefined> {
  const plainAt = config.ingressListen;
  const tlsAt = config.ingressTlsListen;
  if (!plainAt && !tlsAt) return undefined;
  const where = [plainAt, tlsAt].filter((a) => a !== undefined).map((a) => `${a.host}:${a.port}`);
  if (!services) {
    log.warn('the node ingress is not served: it routes by the service network, which this node lacks', {
      listen: where.join(' '),
    });
    return undefined;
  }
  const certificates = tlsAt
    ? new NodeCertificateSet({
        fetch: control.certificates,
        dataDir: config.dataDir,
        server: control.server,
        log,
      })
    : undefined;
  await certificates?.start(control.signal);
  const ingress = new NodeIngress({
    backends: services.ingressBackends,
    log,
    challenge: control.challenge,
    ...(certificates ? { certificates } : {}),
  });
  ingress.setRoutes(services.routes());
  // HTTPS first: plain HTTP redirects only once HTTPS is there to take the request.
  for (const [at, secure] of [
    [tlsAt, true],
    [plainAt, false],
  ] as const) {
    if (!at) continue;
    try {
      const bound = secure
        ? await ingress.listenTls(at.host, at.port)
        : await ingress.listen(at.host, at.port);
      log.info(`serving the cluster ingress on this node over ${secure ? 'HTTPS' : 'HTTP'}`, {
        listen: `${bound.address}:${bound.port}`,
      });
    } catch (e) {
      log.warn('the node ingress cannot listen', { listen: `${at.host}:${at.port}`, error: errorMessage(e) });
    }
  }
  return { ingress, certificates };
}

async function removeJoinToken(envFile: string, log: Logger): Promise<void> {
  try {
    if (await forgetJoinToken(envFile))
      log.info('removed the join token from the environment file: the node holds its credential', {
        file: envFile,
      });
  } catch (e) {
    log.warn('could not remove the join token from the environment file', {
      file: envFile,
      error: errorMessage(e),
    });
  }
}
