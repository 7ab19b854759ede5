import { DRAIN_DELAY_ANNOTATION, RESTARTED_AT_ANNOTATION } from './deployment.ts';
import { takeServiceAccountFields } from './manifest-machinery.ts';
import type { FieldError } from './problem.ts';
import { UNSUPPORTED_SECURITY_FIELDS } from './security-context.ts';
import { UNSUPPORTED_VOLUME_FIELDS } from './volumes.ts';

/**
 * Kubernetes manifests (apps/v1 Deployment, v1 Service) → the berth.dev/v1 shape. The Berth schema
 * uses Kubernetes' own names, so translating is mostly deleting what carries no behaviour:
 * server-assigned metadata, and fields whose value is Kubernetes' default (so the output of
 * `kubectl get -o yaml` applies). Everything else stays in place and meets the strict Berth schema,
 * where a field Berth lacks becomes an issue at its exact path (see unsupportedFieldMessage).
 */

type PlainObject = Record<string, unknown>;
const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Translated {
  value: unknown;
  /** Problems found while translating, with paths relative to the document. */
  errors: FieldError[];
  /** Rewrites a schema error whose path only exists after translation (spec.hosts of a v1 Service). */
  remap?: (error: FieldError) => FieldError;
  /** Fields taken out because they change nothing on Berth, each said in the apply's warnings. */
  warnings?: string[];
  /** Whether Kubernetes would mount an API token into the pods (ManifestObject's field of that name). */
  serviceAccountToken?: 'pod' | 'account';
}

/** Kubernetes fields Berth knows and does not implement: key → what to use instead (may be empty). */
const UNSUPPORTED = new Map<string, string>([
  // metadata
  ['generateName', 'set metadata.name'],
  ['finalizers', ''],
  ['ownerReferences', ''],
  ['deletionTimestamp', ''],
  ['deletionGracePeriodSeconds', ''],
  // Deployment spec
  ['matchExpressions', 'use matchLabels'],
  // pod spec
  // volume sources and mount fields (common/volumes.ts)
  ...UNSUPPORTED_VOLUME_FIELDS,
  ['ephemeralContainers', ''],
  // affinity, tolerations and topologySpreadConstraints: these parts of them (common/scheduling.ts)
  ['namespaceSelector', "Berth matches pods in the pod's own namespace only"],
  ['matchLabelKeys', ''],
  ['mismatchLabelKeys', ''],
  ['minDomains', ''],
  ['nodeAffinityPolicy', ''],
  ['nodeTaintsPolicy', ''],
  ['securityContext', ''],
  // securityContext fields (common/security-context.ts)
  ...UNSUPPORTED_SECURITY_FIELDS,
  // The deprecated alias of serviceAccountName, which an apps/v1 Deployment may still write.
  ['serviceAccount', 'use serviceAccountName'],
  ['hostNetwork', 'only false is accepted'],
  ['hostPID', 'only false is accepted'],
  ['hostIPC', 'only false is accepted'],
  ['hostUsers', ''],
  ['shareProcessNamespace', 'only false is accepted'],
  ['dnsPolicy', 'only the default, ClusterFirst, is accepted'],
  ['dnsConfig', ''],
  ['hostAliases', ''],
  ['hostname', ''],
  ['subdomain', ''],
  ['setHostnameAsFQDN', ''],
  ['nodeName', 'use nodeSelector with the label berth.dev/node'],
  ['priority', ''],
  ['priorityClassName', ''],
  ['preemptionPolicy', ''],
  ['runtimeClassName', ''],
  ['schedulerName', 'only the default, default-scheduler, is accepted'],
  ['overhead', ''],
  ['readinessGates', ''],
  ['os', ''],
  ['activeDeadlineSeconds', ''],
  ['schedulingGates', ''],
  ['resourceClaims', ''],
  // container
  ['volumeDevices', ''],
  ['stdin', 'only false is accepted'],
  ['stdinOnce', 'only false is accepted'],
  ['tty', 'only false is accepted'],
  ['terminationMessagePath', 'only the default, /dev/termination-log, is accepted'],
  ['terminationMessagePolicy', 'only the default, File, is accepted'],
  ['resizePolicy', ''],
  ['claims', ''],
  ['hostIP', ''],
  ['fileKeyRef', ''],
  // Service
  [
    'externalIPs',
    'no node listens on addresses it does not own; use a NodePort or the hosts of a LoadBalancer',
  ],
  ['loadBalancerIP', ''],
  ['loadBalancerSourceRanges', ''],
  ['loadBalancerClass', ''],
  ['externalTrafficPolicy', 'only the default, Cluster, is accepted'],
  ['internalTrafficPolicy', 'only the default, Cluster, is accepted'],
  ['healthCheckNodePort', ''],
  ['publishNotReadyAddresses', 'only false is accepted'],
  ['ipFamilies', 'only [IPv4] is accepted'],
  ['ipFamilyPolicy', 'only the default, SingleStack, is accepted'],
  ['trafficDistribution', ''],
]);

/** The message for an unknown key at `path` (the object holding it), in any document. */
export function unsupportedFieldMessage(path: readonly PropertyKey[], key: string): string {
  const parent = path[path.length - 1];
  if (parent === 'requests' || parent === 'limits')
    return `${key} is not supported by Berth (only cpu, memory, ephemeral-storage and extended resources such as nvidia.com/gpu)`;
  if (key === 'tcpSocket' && (parent === 'postStart' || parent === 'preStop'))
    return 'tcpSocket is not supported by Berth in lifecycle hooks (Kubernetes does not run it either; use exec or httpGet)';
  const hint = UNSUPPORTED.get(key);
  if (hint === undefined) return `unknown field "${key}"`;
  return `${key} is not supported by Berth${hint ? ` (${hint})` : ''}`;
}

type Rules = Record<string, (value: unknown) => boolean>;
const always = () => true;
const is = (expected: unknown) => (value: unknown) => value === expected;
const isEmpty = (v: unknown) =>
  v === null || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);

/**
 * Deletes the keys whose value carries no behaviour: what the rules accept, any null (Kubernetes
 * reads null as absent), and an empty list or object in a field Berth lacks (volumes: []).
 */
function strip(obj: unknown, rules: Rules = {}): PlainObject | undefined {
  if (!isPlainObject(obj)) return undefined;
  for (const [key, value] of Object.entries(obj)) {
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (value === null || rule?.(value) || (UNSUPPORTED.has(key) && isEmpty(value))) delete obj[key];
  }
  return obj;
}

function eachItem(list: unknown, fn: (item: unknown) => void): void {
  if (Array.isArray(list)) list.forEach(fn);
}

/** Assigned by the Kubernetes API server; meaningless to Berth (a Kubernetes resourceVersion would 409). */
const SERVER_METADATA: Rules = {
  creationTimestamp: always,
  resourceVersion: always,
  uid: always,
  generation: always,
  selfLink: always,
  managedFields: always,
};

const POD_DEFAULTS: Rules = {
  dnsPolicy: is('ClusterFirst'),
  schedulerName: is('default-scheduler'),
  hostNetwork: is(false),
  hostPID: is(false),
  hostIPC: is(false),
  shareProcessNamespace: is(false),
  // Kubernetes' default, the same as absent; false is kept (no Kubernetes service variables).
  enableServiceLinks: is(true),
  // Empty, these change nothing, and templates stored before they were accepted had them taken out.
  affinity: isEmpty,
  tolerations: isEmpty,
  topologySpreadConstraints: isEmpty,
  volumes: isEmpty,
};

const CONTAINER_DEFAULTS: Rules = {
  terminationMessagePath: is('/dev/termination-log'),
  terminationMessagePolicy: is('File'),
  stdin: is(false),
  stdinOnce: is(false),
  tty: is(false),
  volumeMounts: isEmpty,
};

/** An empty host is the pod's own address, the default; any other host the Berth schema refuses. */
const PROBE_ACTION_DEFAULTS: Rules = { host: is('') };

function stripProbe(probe: unknown): void {
  const p = strip(probe);
  if (!p) return;
  strip(p.httpGet, PROBE_ACTION_DEFAULTS);
  strip(p.tcpSocket, PROBE_ACTION_DEFAULTS);
  strip(p.exec);
  strip(p.grpc);
}

function stripContainer(container: unknown): void {
  const c = strip(container, CONTAINER_DEFAULTS);
  if (!c) return;
  eachItem(c.ports, (p) => strip(p));
  eachItem(c.volumeMounts, (m) => strip(m));
  eachItem(c.env, (e) => {
    const valueFrom = strip(strip(e)?.valueFrom);
    strip(valueFrom?.secretKeyRef, { optional: is(false) });
  });
  const resources = strip(c.resources);
  strip(resources?.requests);
  strip(resources?.limits);
  stripProbe(c.readinessProbe);
  stripProbe(c.livenessProbe);
  stripProbe(c.startupProbe);
  const security = strip(c.securityContext, { procMount: is('Default') });
  strip(security?.capabilities);
  strip(security?.seccompProfile);
  const lifecycle = strip(c.lifecycle);
  for (const hook of [lifecycle?.postStart, lifecycle?.preStop]) {
    const h = strip(hook);
    strip(h?.httpGet, PROBE_ACTION_DEFAULTS);
    strip(h?.exec);
    strip(h?.sleep);
  }
}

export function stripRoot(doc: PlainObject): PlainObject {
  const copy = structuredClone(doc);
  delete copy.apiVersion;
  delete copy.kind;
  strip(copy);
  strip(copy.metadata, SERVER_METADATA);
  return copy;
}

/** apps/v1 Deployment → berth.dev/v1 Deployment input. */
export function kubernetesDeployment(doc: PlainObject): Translated {
  const copy = stripRoot(doc);
  const spec = strip(copy.spec);
  const selector = strip(spec?.selector);
  const errors: FieldError[] = [];
  // apps/v1 has no default selector (only extensions/v1beta1 took the template's labels), and an
  // empty one would select every pod of the namespace.
  if (spec && spec.selector === undefined)
    errors.push({ path: 'spec.selector', message: "is required: matchLabels with the template's labels" });
  else if (selector && selector.matchExpressions === undefined && isEmpty(selector.matchLabels ?? {})) {
    errors.push({
      path: 'spec.selector',
      message: 'must not be empty: an empty selector would select every pod',
    });
    delete spec?.selector; // said once here, not again by the schema (matchLabels is required)
  }
  const strategy = strip(spec?.strategy);
  strip(strategy?.rollingUpdate);
  const pod = stripPodTemplate(spec?.template, errors);
  return {
    value: copy,
    errors,
    ...(pod.serviceAccountToken ? { serviceAccountToken: pod.serviceAccountToken } : {}),
  };
}

/**
 * A workload's pod template: what carries no behaviour goes (defaults, pod annotations), what
 * decides a service-account token is taken out and said in `serviceAccountToken`.
 */
function stripPodTemplate(
  value: unknown,
  errors: FieldError[],
  /** Where the template is in the document, for errors. */
  at = 'spec.template',
): { serviceAccountToken?: 'pod' | 'account' } {
  const template = strip(value);
  // Pod annotations are plain metadata to Kubernetes; Berth keeps none besides labels, except
  // the one `kubectl rollout restart` sets to roll the pods, and reads its drain delay from one.
  const metadata = strip(template?.metadata, { creationTimestamp: always });
  const annotations = metadata && isPlainObject(metadata.annotations) ? metadata.annotations : undefined;
  if (metadata) {
    const restartedAt = annotations?.[RESTARTED_AT_ANNOTATION];
    if (restartedAt === undefined) delete metadata.annotations;
    else metadata.annotations = { [RESTARTED_AT_ANNOTATION]: restartedAt };
  }
  const pod = strip(template?.spec, POD_DEFAULTS);
  const drain = annotations?.[DRAIN_DELAY_ANNOTATION];
  if (drain !== undefined) {
    if (typeof drain === 'string' && /^\d{1,3}$/.test(drain) && Number(drain) <= 300 && pod)
      pod.drainDelaySeconds = Number(drain);
    else
      errors.push({
        path: `${at}.metadata.annotations[${JSON.stringify(DRAIN_DELAY_ANNOTATION)}]`,
        message: 'must be a whole number of seconds from 0 to 300, as a string',
      });
  }
  strip(strip(pod?.securityContext, { supplementalGroupsPolicy: is('Merge') })?.seccompProfile);
  const { serviceAccountToken, errors: accountErrors } = takeServiceAccountFields(pod);
  errors.push(...accountErrors);
  eachItem(pod?.containers, stripContainer);
  eachItem(pod?.initContainers, stripContainer);
  eachItem(pod?.imagePullSecrets, (s) => strip(s));
  eachItem(pod?.volumes, (v) => {
    const volume = strip(v);
    for (const source of [volume?.emptyDir, volume?.configMap, volume?.secret])
      eachItem(strip(source)?.items, (item) => strip(item));
  });
  return serviceAccountToken ? { serviceAccountToken } : {};
}

/**
 * batch/v1 Job → berth.dev/v1 Job input. Kubernetes' defaults that describe what Berth does
 * anyway (replacing a pod once it is terminating or failed, Kubernetes' own job controller) go.
 */
export function kubernetesJob(doc: PlainObject): Translated {
  const copy = stripRoot(doc);
  delete copy.status;
  const errors: FieldError[] = [];
  const spec = strip(copy.spec, {
    podReplacementPolicy: is('TerminatingOrFailed'),
    managedBy: is('kubernetes.io/job-controller'),
  });
  const pod = stripPodTemplate(spec?.template, errors);
  return {
    value: copy,
    errors,
    ...(pod.serviceAccountToken ? { serviceAccountToken: pod.serviceAccountToken } : {}),
  };
}

/** batch/v1 CronJob → berth.dev/v1 CronJob input: its job template read as a Job's spec is. */
export function kubernetesCronJob(doc: PlainObject): Translated {
  const copy = stripRoot(doc);
  delete copy.status;
  const errors: FieldError[] = [];
  const spec = strip(copy.spec);
  const template = strip(spec?.jobTemplate);
  // `kubectl create cronjob` names the template after the CronJob; Kubernetes names each Job from
  // the CronJob and the time, whatever the template says, so that name changes nothing. Another
  // name still meets the schema's refusal.
  const own = (copy.metadata as PlainObject | undefined)?.name;
  strip(template?.metadata, { creationTimestamp: always, name: is(own) });
  const job = strip(template?.spec, {
    podReplacementPolicy: is('TerminatingOrFailed'),
    managedBy: is('kubernetes.io/job-controller'),
  });
  stripPodTemplate(job?.template, errors, 'spec.jobTemplate.spec.template');
  return { value: copy, errors };
}

export const HOSTS_ANNOTATION = 'berth.dev/hosts';
const HOSTS_PATH = `metadata.annotations[${JSON.stringify(HOSTS_ANNOTATION)}]`;
/** The kubernetes.io/tls Secret served for a v1 Service's hosts (spec.tlsSecretName of Berth's Service). */
export const TLS_SECRET_ANNOTATION = 'berth.dev/tls-secret';
const TLS_SECRET_PATH = `metadata.annotations[${JSON.stringify(TLS_SECRET_ANNOTATION)}]`;

/**
 * v1 Service → berth.dev/v1 Service input; the hostnames come from the berth.dev/hosts annotation.
 * What `kubectl get svc -o yaml` shows (clusterIP, clusterIPs, nodePorts) applies back unchanged.
 */
export function kubernetesService(doc: PlainObject): Translated {
  const copy = stripRoot(doc);
  delete copy.status;
  const errors: FieldError[] = [];
  const spec = strip(copy.spec);
  strip(spec, {
    type: is('ClusterIP'),
    ipFamilies: (f) => Array.isArray(f) && f.length === 1 && f[0] === 'IPv4',
    ipFamilyPolicy: is('SingleStack'),
    sessionAffinity: is('None'),
    internalTrafficPolicy: is('Cluster'),
    externalTrafficPolicy: is('Cluster'),
    allocateLoadBalancerNodePorts: is(true),
    publishNotReadyAddresses: is(false),
  });
  takeClusterIPs(spec, errors);
  strip(strip(spec?.sessionAffinityConfig)?.clientIP);
  // appProtocol is a hint without behaviour.
  eachItem(spec?.ports, (port) => strip(port, { appProtocol: always }));

  const annotations = isPlainObject(copy.metadata) ? copy.metadata.annotations : undefined;
  const hostsValue = isPlainObject(annotations) ? annotations[HOSTS_ANNOTATION] : undefined;
  let hosts: string[] = [];
  if (hostsValue !== undefined && spec) {
    if (typeof hostsValue !== 'string') {
      errors.push({ path: HOSTS_PATH, message: 'must be a comma-separated list of hostnames' });
    } else if (spec.hosts !== undefined) {
      errors.push({
        path: 'spec.hosts',
        message: `set either spec.hosts or the ${HOSTS_ANNOTATION} annotation`,
      });
    } else {
      hosts = hostsValue
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean);
      spec.hosts = hosts;
    }
  }
  const tlsSecret = isPlainObject(annotations) ? annotations[TLS_SECRET_ANNOTATION] : undefined;
  if (tlsSecret !== undefined && spec) {
    if (typeof tlsSecret !== 'string')
      errors.push({ path: TLS_SECRET_PATH, message: "must be a Secret's name" });
    else spec.tlsSecretName = tlsSecret.trim();
  }
  const remap = (error: FieldError): FieldError => {
    if (error.path === 'spec.tlsSecretName' && tlsSecret !== undefined)
      return { path: TLS_SECRET_PATH, message: error.message };
    const m = /^spec\.hosts(?:\[(\d+)\])?$/.exec(error.path);
    if (!m || !hosts.length) return error;
    const host = m[1] === undefined ? undefined : hosts[Number(m[1])];
    return { path: HOSTS_PATH, message: host === undefined ? error.message : `"${host}" ${error.message}` };
  };
  return { value: copy, errors, remap };
}

/** `clusterIPs` says again what `clusterIP` says (Berth's services have one IPv4 address). */
function takeClusterIPs(spec: PlainObject | undefined, errors: FieldError[]): void {
  if (!spec || spec.clusterIPs === undefined) return;
  const ips = spec.clusterIPs;
  const single = Array.isArray(ips) && ips.length === 1 && typeof ips[0] === 'string' ? ips[0] : undefined;
  if (single === undefined || (spec.clusterIP !== undefined && spec.clusterIP !== single)) {
    errors.push({
      path: 'spec.clusterIPs',
      message: 'clusterIPs is accepted only as [clusterIP]: Berth gives a service one IPv4 address',
    });
  } else spec.clusterIP ??= single;
  delete spec.clusterIPs;
}
