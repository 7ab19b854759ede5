import { z } from 'zod';
import { ConfigMapInput } from '../../common/config-map.ts';
import { CronJobInput } from '../../common/cron-job.ts';
import { DeploymentInput, PodSpec, PodTemplate } from '../../common/deployment.ts';
import { IngressInput } from '../../common/ingress.ts';
import { JobInput } from '../../common/job.ts';
import { PersistentVolumeClaimInput } from '../../common/persistent-volume-claim.ts';
import { Taint } from '../../common/scheduling.ts';
import { ServiceInput } from '../../common/service.ts';
import { ServiceAccountInput } from '../../common/service-account.ts';
import { CronJobStatus } from '../../common/wire/cron-job.ts';
import { DeploymentStatus } from '../../common/wire/deployment.ts';
import { JobStatus } from '../../common/wire/job.ts';
import type { FieldDoc, TypeDoc, TypeTable } from './openapi-build.ts';
import {
  APPS,
  ATOMIC,
  BATCH,
  BY_NAME,
  bool,
  CORE,
  INT_OR_STRING,
  int,
  type ListMeta,
  listOf,
  META,
  mapOf,
  NETWORKING,
  OBJECT_META,
  object,
  PATCH,
  QUANTITY,
  ref,
  type Schema,
  str,
  TIME,
  time,
} from './openapi-schema.ts';

/**
 * Kubernetes' types as Berth serves them, as data: for each type its Kubernetes name, what Berth
 * does with it and with each field (what `kubectl explain` prints), the named types its fields
 * hold, and Kubernetes' list metadata. The shapes themselves come from the zod schemas Berth
 * validates writes with (common/), so a field Berth accepts is a field explained, and one it
 * refuses is left out and named as refused; only what the face makes itself (Pods, Nodes,
 * statuses) is written here.
 */

/** Berth's zod schemas as JSON Schema: what a write may hold (inputs, before defaults). */
export function fromZod(schema: z.ZodType): Schema {
  // A registry of its own: the ids /openapi.json gives the wire schemas are not Kubernetes' names.
  return z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
    metadata: z.registry(),
  }) as Schema;
}

const READ_ONLY = 'Read-only: written by Berth, ignored in a write.';

/** apiVersion, kind, metadata and status as every kind has them. */
function kindFields(apiVersion: string, kind: string, status?: string): Record<string, FieldDoc> {
  return {
    apiVersion: { shape: str(`${apiVersion}, the group and version this face serves ${kind} at.`) },
    kind: { shape: str(kind) },
    metadata: {
      shape: ref(OBJECT_META, "The object's name, namespace, labels and annotations."),
      type: OBJECT_META,
    },
    status: status
      ? { shape: ref(status, `${READ_ONLY} What Berth observed of the ${kind}.`), type: status }
      : { hidden: true },
  };
}

/** A field Berth takes only with its Kubernetes default, which `kubectl get -o yaml` of Kubernetes shows. */
function onlyDefault(value: string | boolean, alternative = ''): FieldDoc {
  const shown = typeof value === 'string' ? value : String(value);
  return {
    shape: {
      ...(typeof value === 'string' ? str() : bool()),
      enum: [value],
      description: `Accepted only as ${shown}, Kubernetes' default; any other value is refused (422).${alternative ? ` ${alternative}` : ''}`,
    },
  };
}

/** Conditions as Kubernetes lists them: one per type, merged by type. */
const BY_TYPE: ListMeta = { type: 'map', keys: ['type'], mergeKey: 'type', strategy: 'merge' };

const kindShape = (input: z.ZodType) => () => fromZod(input);

const DEPLOYMENT: Record<string, TypeDoc> = {
  [`${APPS}Deployment`]: {
    doc: "A Deployment: Berth runs `replicas` copies of its pod template on its nodes' Docker engines, and rolls a new template out as Kubernetes does (revisions are the ReplicaSets). Written through the same verb as `POST /v1/apply`.",
    shape: kindShape(DeploymentInput),
    fields: {
      ...kindFields('apps/v1', 'Deployment', `${APPS}DeploymentStatus`),
      spec: { type: `${APPS}DeploymentSpec` },
    },
  },
  [`${APPS}DeploymentSpec`]: {
    doc: 'What the Deployment runs and how Berth rolls it out.',
    fields: {
      replicas: {
        doc: 'Replicas Berth keeps running (0 to 10000; default 1). Berth places them on ready nodes with room for their requests.',
      },
      selector: {
        doc: "Required in apps/v1: matchLabels, each equal to a label of the template (matchExpressions is refused). Berth owns a Deployment's replicas by construction; the selector only has to agree with the template.",
      },
      template: {
        type: `${CORE}PodTemplateSpec`,
        doc: 'The pod every replica runs. A change to it is a new revision, rolled out by the strategy.',
      },
      strategy: { type: `${APPS}DeploymentStrategy` },
      minReadySeconds: {
        doc: 'Seconds a replica must be ready before it counts as available (rollouts wait for it).',
      },
      progressDeadlineSeconds: {
        doc: 'Seconds without progress before the Progressing condition says ProgressDeadlineExceeded.',
      },
      revisionHistoryLimit: { doc: 'Old revisions kept for `kubectl rollout undo` (0 to 100; default 10).' },
      paused: {
        doc: 'While true, template changes are stored but not rolled out (`kubectl rollout pause`).',
      },
      autoRollback: { hidden: true },
    },
  },
  [`${APPS}DeploymentStrategy`]: {
    doc: 'How a new template replaces the old replicas.',
    fields: {
      type: {
        doc: 'RollingUpdate (default): replace replicas in batches bounded by maxSurge and maxUnavailable. Recreate: stop every old replica before starting new ones.',
      },
      rollingUpdate: { type: `${APPS}RollingUpdateDeployment` },
    },
  },
  [`${APPS}RollingUpdateDeployment`]: {
    doc: 'The bounds of a rolling update; only with type RollingUpdate.',
    fields: {
      maxSurge: {
        doc: 'Replicas above `replicas` during a rollout: a number or a percentage (default 25%).',
      },
      maxUnavailable: {
        doc: 'Replicas that may be unavailable during a rollout: a number or a percentage (default 25%).',
      },
    },
  },
  [`${APPS}DeploymentStatus`]: {
    doc: 'What the controller last observed of the Deployment.',
    shape: () => fromZod(DeploymentStatus.omit({ revision: true })),
    fields: {
      conditions: {
        type: `${APPS}DeploymentCondition`,
        list: BY_TYPE,
        doc: 'Available and Progressing, as Kubernetes reports them.',
      },
    },
  },
  [`${APPS}DeploymentCondition`]: { doc: 'One condition of a Deployment (Available or Progressing).' },
  [`${APPS}ReplicaSet`]: {
    doc: "A revision of a Deployment, as Kubernetes keeps one ReplicaSet per pod template. Read-only: Berth derives it from the Deployment's stored revisions and replicas (write the Deployment instead).",
    shape: () =>
      object('', {
        apiVersion: str(),
        kind: str(),
        metadata: ref(OBJECT_META),
        spec: ref(`${APPS}ReplicaSetSpec`),
        status: ref(`${APPS}ReplicaSetStatus`),
      }),
    fields: kindFields('apps/v1', 'ReplicaSet', `${APPS}ReplicaSetStatus`),
  },
  [`${APPS}ReplicaSetSpec`]: {
    doc: "The revision's template and how many replicas of it the Deployment wants.",
    shape: () =>
      object('', {
        replicas: int(
          "The Deployment's replicas for its current revision; for an older one, its replicas still running (0 once replaced).",
        ),
        minReadySeconds: int("The Deployment's minReadySeconds."),
        selector: object("The Deployment's selector plus pod-template-hash.", { matchLabels: mapOf(str()) }),
        template: ref(`${CORE}PodTemplateSpec`, 'The pod template of this revision.'),
      }),
  },
  [`${APPS}ReplicaSetStatus`]: {
    doc: "Counts of the revision's replicas.",
    shape: () =>
      object('', {
        replicas: int('Replicas of this revision that are running (not told to stop).'),
        fullyLabeledReplicas: int('The same as replicas.'),
        readyReplicas: int('Of those, the ready ones.'),
        availableReplicas: int('The same as readyReplicas.'),
        observedGeneration: int('Always 1.'),
      }),
  },
};

const POD: Record<string, TypeDoc> = {
  [`${CORE}PodTemplateSpec`]: {
    doc: 'A pod template: the labels its replicas carry and what they run.',
    alone: () => fromZod(PodTemplate),
    fields: {
      metadata: {
        doc: 'Of the pod metadata Berth keeps the labels. Annotations are dropped except kubectl.kubernetes.io/restartedAt (a new value rolls the pods: `kubectl rollout restart`); berth.dev/drain-delay-seconds (0-300) sets how long a replica keeps serving after it leaves its services, before SIGTERM.',
        shape: object('', {
          labels: mapOf(str(), 'Labels of every replica; services and selectors match them.'),
          annotations: mapOf(
            str(),
            'Read: kubectl.kubernetes.io/restartedAt and berth.dev/drain-delay-seconds; others are dropped.',
          ),
        }),
      },
      spec: { type: `${CORE}PodSpec` },
    },
  },
  [`${CORE}PodSpec`]: {
    doc: "What a replica runs, as Berth's agents run it with Docker: its containers, volumes, security and scheduling.",
    alone: () => fromZod(PodSpec),
    refused: [
      'activeDeadlineSeconds',
      'dnsConfig',
      'ephemeralContainers',
      'hostAliases',
      'hostUsers',
      'hostname',
      'os',
      'overhead',
      'preemptionPolicy',
      'priority',
      'priorityClassName',
      'readinessGates',
      'resourceClaims',
      'runtimeClassName',
      'schedulingGates',
      'serviceAccount',
      'setHostnameAsFQDN',
      'subdomain',
    ],
    fields: {
      containers: {
        type: `${CORE}Container`,
        list: BY_NAME,
        doc: 'The containers of the pod (1 to 16), started together on one node.',
      },
      initContainers: {
        type: `${CORE}Container`,
        list: BY_NAME,
        doc: 'Containers run one after another, each to success, before the containers start; with restartPolicy Always one is a sidecar that keeps running beside them.',
      },
      restartPolicy: {
        doc: 'Always (default), OnFailure or Never: what the agent does when a container exits (a Job needs OnFailure or Never).',
      },
      nodeSelector: {
        doc: "Labels a node must have to run the pod (the node's agent labels, berth.dev/node, kubernetes.io/hostname).",
      },
      terminationGracePeriodSeconds: {
        doc: 'Seconds between SIGTERM and SIGKILL when a replica stops (0 to 3600; default 30).',
      },
      drainDelaySeconds: { hidden: true },
      imagePullSecrets: {
        list: BY_NAME,
        doc: 'Secrets of type kubernetes.io/dockerconfigjson (or Berth registry secrets) the agent pulls the images with.',
      },
      securityContext: { type: `${CORE}PodSecurityContext` },
      serviceAccountName: {
        doc: 'A ServiceAccount of the namespace (absent: default). Recorded and read by env fieldRef; a replica naming an account that does not exist waits Pending. Berth mounts no Kubernetes API token.',
      },
      automountServiceAccountToken: {
        doc: 'Accepted; Berth mounts no API token either way (an apply warns when Kubernetes would have).',
      },
      enableServiceLinks: {
        doc: 'false: no <SERVICE>_SERVICE_HOST/_PORT variables in the containers (absent: true).',
      },
      affinity: { type: `${CORE}Affinity` },
      tolerations: {
        type: `${CORE}Toleration`,
        list: ATOMIC,
        doc: "Node taints the pod tolerates (Berth's scheduler honours NoSchedule and NoExecute, and prefers nodes without PreferNoSchedule).",
      },
      topologySpreadConstraints: {
        type: `${CORE}TopologySpreadConstraint`,
        list: {
          type: 'map',
          keys: ['topologyKey', 'whenUnsatisfiable'],
          mergeKey: 'topologyKey',
          strategy: 'merge',
        },
        doc: "How the scheduler spreads matching pods of the pod's namespace across node label values.",
      },
      volumes: {
        type: `${CORE}Volume`,
        list: { type: 'map', keys: ['name'], mergeKey: 'name', strategy: 'merge,retainKeys' },
        doc: 'Volumes the containers mount: emptyDir, configMap, secret, persistentVolumeClaim, and hostPath where the namespace policy allows it.',
      },
      nodeName: {
        shape: str(
          'Pods only: the node Berth placed the replica on. Refused in a template: use nodeSelector with the label berth.dev/node.',
        ),
      },
      dnsPolicy: onlyDefault('ClusterFirst'),
      schedulerName: onlyDefault('default-scheduler'),
      hostNetwork: onlyDefault(false),
      hostPID: onlyDefault(false),
      hostIPC: onlyDefault(false),
      shareProcessNamespace: onlyDefault(false),
    },
  },
  [`${CORE}Container`]: {
    doc: 'A container the agent creates with Docker from its image.',
    refused: ['claims', 'resizePolicy', 'volumeDevices'],
    fields: {
      name: { doc: 'Unique among the containers and init containers of the pod (a DNS label).' },
      image: { doc: 'The image reference the agent pulls (with the pod imagePullSecrets) and runs.' },
      imagePullPolicy: {
        doc: 'Always, IfNotPresent or Never, as Kubernetes: absent is Always for :latest or no tag, IfNotPresent otherwise.',
      },
      command: {
        list: ATOMIC,
        doc: "Replaces the image's ENTRYPOINT; $(VAR) references to env are expanded.",
      },
      args: { list: ATOMIC, doc: "Replaces the image's CMD; $(VAR) references to env are expanded." },
      workingDir: { doc: "The container's working directory (the image's when absent)." },
      env: {
        type: `${CORE}EnvVar`,
        list: BY_NAME,
        doc: 'Environment variables, in order; later ones may refer to earlier ones as $(NAME).',
      },
      envFrom: {
        type: `${CORE}EnvFromSource`,
        list: ATOMIC,
        doc: 'Every key of a ConfigMap or Secret as a variable (env wins on a clash).',
      },
      ports: {
        type: `${CORE}ContainerPort`,
        list: {
          type: 'map',
          keys: ['containerPort', 'protocol'],
          mergeKey: 'containerPort',
          strategy: 'merge',
        },
        doc: "Ports the container listens on. The agent publishes each on its node's address (at hostPort, or a port the engine picks): that is where services and the ingress reach it.",
      },
      resources: { type: `${CORE}ResourceRequirements` },
      readinessProbe: {
        type: `${CORE}Probe`,
        doc: "While it fails, the replica is not ready and leaves its services' endpoints.",
      },
      livenessProbe: {
        type: `${CORE}Probe`,
        doc: 'failureThreshold failures in a row and the agent restarts the container.',
      },
      startupProbe: {
        type: `${CORE}Probe`,
        doc: 'Readiness and liveness wait for its first success; failureThreshold failures kill the container.',
      },
      lifecycle: { type: `${CORE}Lifecycle` },
      securityContext: { type: `${CORE}SecurityContext` },
      volumeMounts: {
        type: `${CORE}VolumeMount`,
        list: { type: 'map', keys: ['mountPath'], mergeKey: 'mountPath', strategy: 'merge' },
        doc: "The pod's volumes mounted into the container.",
      },
      restartPolicy: {
        doc: 'Init containers only: Always makes it a sidecar, started before the containers and kept running beside them.',
      },
      terminationMessagePath: onlyDefault('/dev/termination-log'),
      terminationMessagePolicy: onlyDefault('File'),
      stdin: onlyDefault(false),
      stdinOnce: onlyDefault(false),
      tty: onlyDefault(false),
    },
  },
  [`${CORE}EnvVar`]: {
    doc: 'An environment variable: a value, or one read from a ConfigMap, a Secret, the pod or its resources.',
    fields: { valueFrom: { type: `${CORE}EnvVarSource` } },
  },
  [`${CORE}EnvVarSource`]: {
    doc: 'Where a variable takes its value; exactly one.',
    fields: {
      secretKeyRef: {
        type: `${CORE}SecretKeySelector`,
        doc: "A key of a Secret in the pod's namespace: the replica waits until it exists (unless optional).",
      },
      configMapKeyRef: {
        type: `${CORE}ConfigMapKeySelector`,
        doc: "A key of a ConfigMap in the pod's namespace.",
      },
      fieldRef: { type: `${CORE}ObjectFieldSelector` },
      resourceFieldRef: { type: `${CORE}ResourceFieldSelector` },
    },
  },
  [`${CORE}SecretKeySelector`]: { doc: 'A key of a Secret.' },
  [`${CORE}ConfigMapKeySelector`]: { doc: 'A key of a ConfigMap.' },
  [`${CORE}ObjectFieldSelector`]: {
    doc: "A field of the pod: metadata.name, metadata.namespace, metadata.uid, metadata.labels['k'], metadata.annotations['k'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP and the like.",
  },
  [`${CORE}ResourceFieldSelector`]: {
    doc: "A container's request or limit of cpu or memory, divided by divisor.",
  },
  [`${CORE}EnvFromSource`]: {
    doc: 'Every key of a ConfigMap or a Secret as variables, each name with prefix before it.',
    fields: {
      configMapRef: { type: `${CORE}ConfigMapEnvSource` },
      secretRef: { type: `${CORE}SecretEnvSource` },
    },
  },
  [`${CORE}ConfigMapEnvSource`]: { doc: 'A ConfigMap of the namespace.' },
  [`${CORE}SecretEnvSource`]: { doc: 'A Secret of the namespace.' },
  [`${CORE}ContainerPort`]: {
    doc: 'A port the container listens on.',
    fields: {
      containerPort: { doc: 'The port inside the container.' },
      hostPort: {
        doc: 'A fixed port on the node to publish it at, within the hostPorts of the namespace policy; absent: the engine picks one.',
      },
      protocol: { doc: 'TCP (default) or UDP; SCTP is refused.' },
      name: { doc: 'A name services may use as targetPort.' },
    },
  },
  [`${CORE}ResourceRequirements`]: {
    doc: 'What the container asks of its node. The scheduler places replicas by requests; limits are given to Docker (CPU quota, memory limit).',
    fields: {
      requests: {
        shape: mapOf(
          ref(QUANTITY),
          'cpu, memory, ephemeral-storage and extended resources (nvidia.com/gpu): reserved on the node the replica is placed on.',
        ),
      },
      limits: {
        shape: mapOf(
          ref(QUANTITY),
          'cpu and memory become Docker limits; a request above its limit is refused.',
        ),
      },
    },
  },
  [`${CORE}Probe`]: {
    doc: 'A check the agent runs against the container: exactly one of httpGet, tcpSocket, exec, grpc.',
    fields: {
      httpGet: { type: `${CORE}HTTPGetAction` },
      tcpSocket: { type: `${CORE}TCPSocketAction` },
      exec: { type: `${CORE}ExecAction` },
      grpc: { type: `${CORE}GRPCAction` },
      initialDelaySeconds: { doc: 'Seconds after the container starts before the first check.' },
      periodSeconds: { doc: 'Seconds between checks (default 10).' },
      timeoutSeconds: { doc: 'Seconds a check may take (default 1).' },
      successThreshold: {
        doc: 'Successes in a row to pass after a failure (liveness and startup probes: 1).',
      },
      failureThreshold: { doc: 'Failures in a row to fail (default 3).' },
      terminationGracePeriodSeconds: {
        doc: "Liveness and startup probes: the grace between SIGTERM and SIGKILL when this probe's failure kills the container.",
      },
    },
  },
  [`${CORE}HTTPGetAction`]: {
    doc: 'An HTTP GET the agent sends to the container (at its published port on the node): a status from 200 to 399 passes.',
    fields: {
      host: {
        doc: "Only empty is accepted: probes connect to the pod's own address (set a Host header in httpHeaders).",
      },
      httpHeaders: { type: `${CORE}HTTPHeader`, list: ATOMIC },
      port: { doc: 'A port number or the name of a container port.' },
    },
  },
  [`${CORE}HTTPHeader`]: { doc: 'A header sent with the request.' },
  [`${CORE}TCPSocketAction`]: {
    doc: 'A TCP connection the agent opens to the container (at its published port on the node).',
    fields: { host: { doc: "Only empty is accepted: probes connect to the pod's own address." } },
  },
  [`${CORE}ExecAction`]: {
    doc: 'A command run inside the container (no shell); exit status 0 is success.',
    fields: { command: { list: ATOMIC } },
  },
  [`${CORE}GRPCAction`]: { doc: 'The standard gRPC health check on a port number.' },
  [`${CORE}Lifecycle`]: {
    doc: 'Hooks the agent runs: postStart right after the container starts (it is not Running until the hook returns), preStop before SIGTERM, within the grace period.',
    fields: {
      postStart: { type: `${CORE}LifecycleHandler` },
      preStop: { type: `${CORE}LifecycleHandler` },
    },
  },
  [`${CORE}LifecycleHandler`]: {
    doc: 'Exactly one of exec, httpGet, sleep. tcpSocket is refused (Kubernetes never runs it).',
    fields: {
      exec: { type: `${CORE}ExecAction` },
      httpGet: { type: `${CORE}HTTPGetAction` },
      sleep: { type: `${CORE}SleepAction` },
    },
  },
  [`${CORE}SleepAction`]: { doc: 'A wait on the node, at most terminationGracePeriodSeconds.' },
  [`${CORE}SecurityContext`]: {
    doc: "The container's security settings, over the pod's; the namespace policy decides what is allowed (privileged, capabilities, users).",
    fields: {
      capabilities: { type: `${CORE}Capabilities` },
      seccompProfile: { type: `${CORE}SeccompProfile` },
      appArmorProfile: { type: `${CORE}AppArmorProfile` },
      allowPrivilegeEscalation: { doc: "false is Berth's default (no-new-privileges); true lifts it." },
      privileged: { doc: 'true only where the namespace policy allows privileged containers.' },
      procMount: onlyDefault('Default'),
    },
  },
  [`${CORE}PodSecurityContext`]: {
    doc: 'Security settings of every container of the pod, and what only a pod has (groups).',
    fields: {
      seccompProfile: { type: `${CORE}SeccompProfile` },
      appArmorProfile: { type: `${CORE}AppArmorProfile` },
      supplementalGroups: { list: ATOMIC },
      fsGroup: {
        doc: "A supplementary group of every container, and the group that owns the pod's volumes.",
      },
      supplementalGroupsPolicy: onlyDefault('Merge'),
    },
  },
  [`${CORE}Capabilities`]: {
    doc: 'Linux capabilities added to and dropped from Docker defaults; adding needs the namespace policy.',
    fields: { add: { list: ATOMIC }, drop: { list: ATOMIC } },
  },
  [`${CORE}SeccompProfile`]: {
    doc: 'RuntimeDefault (Docker default), Unconfined (where the policy allows it) or Localhost.',
  },
  [`${CORE}AppArmorProfile`]: { doc: "The container's AppArmor profile." },
  [`${CORE}VolumeMount`]: {
    doc: 'A volume of the pod mounted into the container.',
    fields: {
      mountPath: { doc: 'An absolute path inside the container.' },
      subPath: { doc: 'A path inside the volume to mount instead of its root.' },
    },
  },
  [`${CORE}Volume`]: {
    doc: 'A volume of the pod: exactly one source. Other Kubernetes sources (csi, nfs, projected, downwardAPI...) are refused.',
    fields: {
      emptyDir: { type: `${CORE}EmptyDirVolumeSource` },
      configMap: { type: `${CORE}ConfigMapVolumeSource` },
      secret: { type: `${CORE}SecretVolumeSource` },
      persistentVolumeClaim: { type: `${CORE}PersistentVolumeClaimVolumeSource` },
      hostPath: { type: `${CORE}HostPathVolumeSource` },
    },
  },
  [`${CORE}EmptyDirVolumeSource`]: {
    doc: 'A directory that lives and dies with the replica; medium Memory is a tmpfs.',
  },
  [`${CORE}ConfigMapVolumeSource`]: {
    doc: "A ConfigMap's keys as files.",
    fields: { items: { type: `${CORE}KeyToPath`, list: ATOMIC } },
  },
  [`${CORE}SecretVolumeSource`]: {
    doc: "A Secret's keys as files.",
    fields: { items: { type: `${CORE}KeyToPath`, list: ATOMIC } },
  },
  [`${CORE}KeyToPath`]: { doc: 'One key as a file at path.' },
  [`${CORE}PersistentVolumeClaimVolumeSource`]: {
    doc: "A PersistentVolumeClaim of the namespace: node-local storage, so the replica is placed on the claim's node once bound.",
  },
  [`${CORE}HostPathVolumeSource`]: {
    doc: 'A directory of the node; only under the prefixes the namespace policy allows.',
  },
  [`${CORE}Affinity`]: {
    doc: 'Where the scheduler may and prefers to place the pod.',
    fields: {
      nodeAffinity: { type: `${CORE}NodeAffinity` },
      podAffinity: { type: `${CORE}PodAffinity` },
      podAntiAffinity: { type: `${CORE}PodAntiAffinity` },
    },
  },
  [`${CORE}NodeAffinity`]: {
    doc: 'Node labels the pod needs (required) or prefers (weighted).',
    fields: {
      requiredDuringSchedulingIgnoredDuringExecution: { type: `${CORE}NodeSelector` },
      preferredDuringSchedulingIgnoredDuringExecution: {
        type: `${CORE}PreferredSchedulingTerm`,
        list: ATOMIC,
      },
    },
  },
  [`${CORE}NodeSelector`]: {
    doc: 'Terms of which a node must match one.',
    fields: { nodeSelectorTerms: { type: `${CORE}NodeSelectorTerm`, list: ATOMIC } },
  },
  [`${CORE}NodeSelectorTerm`]: {
    doc: 'Requirements a node must all meet.',
    fields: {
      matchExpressions: { type: `${CORE}NodeSelectorRequirement`, list: ATOMIC },
      matchFields: { type: `${CORE}NodeSelectorRequirement`, list: ATOMIC },
    },
  },
  [`${CORE}NodeSelectorRequirement`]: {
    doc: 'A label (or field) requirement.',
    fields: { values: { list: ATOMIC } },
  },
  [`${CORE}PreferredSchedulingTerm`]: {
    doc: 'A weighted preference.',
    fields: { preference: { type: `${CORE}NodeSelectorTerm` } },
  },
  [`${CORE}PodAffinity`]: {
    doc: "Nodes (by topologyKey) already running matching pods of the pod's namespace.",
    fields: {
      requiredDuringSchedulingIgnoredDuringExecution: { type: `${CORE}PodAffinityTerm`, list: ATOMIC },
      preferredDuringSchedulingIgnoredDuringExecution: {
        type: `${CORE}WeightedPodAffinityTerm`,
        list: ATOMIC,
      },
    },
  },
  [`${CORE}PodAntiAffinity`]: {
    doc: "Nodes (by topologyKey) not running matching pods of the pod's namespace.",
    fields: {
      requiredDuringSchedulingIgnoredDuringExecution: { type: `${CORE}PodAffinityTerm`, list: ATOMIC },
      preferredDuringSchedulingIgnoredDuringExecution: {
        type: `${CORE}WeightedPodAffinityTerm`,
        list: ATOMIC,
      },
    },
  },
  [`${CORE}PodAffinityTerm`]: {
    doc: "Pods matching labelSelector in the pod's own namespace (namespaceSelector is refused).",
    fields: { labelSelector: { type: `${META}LabelSelector` }, namespaces: { list: ATOMIC } },
  },
  [`${CORE}WeightedPodAffinityTerm`]: {
    doc: 'A weighted pod affinity term.',
    fields: { podAffinityTerm: { type: `${CORE}PodAffinityTerm` } },
  },
  [`${META}LabelSelector`]: {
    doc: 'Labels to match: all of matchLabels and every expression.',
    fields: { matchExpressions: { type: `${META}LabelSelectorRequirement`, list: ATOMIC } },
  },
  [`${META}LabelSelectorRequirement`]: {
    doc: 'A label requirement: In, NotIn, Exists, DoesNotExist.',
    fields: { values: { list: ATOMIC } },
  },
  [`${CORE}Toleration`]: { doc: 'A taint the pod tolerates.' },
  [`${CORE}TopologySpreadConstraint`]: {
    doc: 'At most maxSkew more matching pods on one value of topologyKey than on another.',
    fields: { labelSelector: { type: `${META}LabelSelector` } },
  },
};

const POD_STATUS_FIELDS = {
  conditions: listOf(
    ref(`${CORE}PodCondition`),
    'PodScheduled, Initialized, ContainersReady and Ready.',
    BY_TYPE,
  ),
};

const CORE_READS: Record<string, TypeDoc> = {
  [`${CORE}Pod`]: {
    doc: "A replica of a Deployment or a Job, as a Pod. Read-only: Berth's replicas are made by their workloads.",
    shape: () =>
      object('', {
        apiVersion: str(),
        kind: str(),
        metadata: ref(OBJECT_META),
        spec: ref(`${CORE}PodSpec`, "The containers of the replica's revision, and the node it runs on."),
        status: ref(`${CORE}PodStatus`),
      }),
    fields: kindFields('v1', 'Pod', `${CORE}PodStatus`),
  },
  [`${CORE}PodStatus`]: {
    doc: "The replica's state as its node's agent reports it.",
    shape: () =>
      object('', {
        phase: str(
          'Pending (scheduled, pulling, starting), Running (or terminating), Succeeded, Failed, or Unknown (its node stopped reporting).',
        ),
        ...POD_STATUS_FIELDS,
        message: str('Why the replica is in this phase.'),
        reason: str('NodeLost when its node stopped reporting.'),
        hostIP: str("The node's address: Berth publishes pod ports on the node."),
        hostIPs: listOf(object('', { ip: str() }), 'The same as hostIP.', {
          type: 'atomic',
          mergeKey: 'ip',
          strategy: 'merge',
        }),
        startTime: time('When the replica was created.'),
        containerStatuses: listOf(ref(`${CORE}ContainerStatus`), 'One per container.'),
        initContainerStatuses: listOf(ref(`${CORE}ContainerStatus`), 'One per init container.'),
      }),
  },
  [`${CORE}PodCondition`]: {
    doc: 'A condition of a pod.',
    shape: () =>
      object(
        '',
        { type: str(), status: str('True or False.'), lastProbeTime: time(), lastTransitionTime: time() },
        ['type', 'status'],
      ),
  },
  [`${CORE}ContainerStatus`]: {
    doc: 'A container as the agent last saw it in Docker.',
    shape: () =>
      object('', {
        name: str(),
        ready: bool('Its readiness probe passes (or it runs, without one).'),
        started: bool('It is running.'),
        restartCount: int('Restarts by the agent.'),
        state: ref(`${CORE}ContainerState`),
        containerID: str('docker://<id>'),
        image: str(),
        imageID: str(),
      }),
  },
  [`${CORE}ContainerState`]: {
    doc: 'One of running, terminated, waiting.',
    shape: () =>
      object('', {
        running: object('', { startedAt: time() }),
        terminated: object('', { exitCode: int(), reason: str(), finishedAt: time() }),
        waiting: object('', { reason: str('ContainerCreating, ImagePullBackOff, CrashLoopBackOff...') }),
      }),
  },
  [`${CORE}Node`]: {
    doc: 'A machine running berth-agent. Nodes register themselves; `kubectl cordon` and `uncordon` (spec.unschedulable) are the only writes, for admins.',
    shape: () =>
      object('', {
        apiVersion: str(),
        kind: str(),
        metadata: ref(OBJECT_META),
        spec: ref(`${CORE}NodeSpec`),
        status: ref(`${CORE}NodeStatus`),
      }),
    fields: kindFields('v1', 'Node', `${CORE}NodeStatus`),
  },
  [`${CORE}NodeSpec`]: {
    doc: "The node's scheduling settings.",
    shape: () =>
      object('', {
        unschedulable: bool('true: no new replicas are placed here (`kubectl cordon`); running ones stay.'),
        taints: listOf(
          ref(`${CORE}Taint`),
          'Taints from the agent configuration; pods without a toleration stay away.',
        ),
      }),
  },
  [`${CORE}Taint`]: { doc: 'A taint of a node.', shape: () => fromZod(Taint) },
  [`${CORE}NodeStatus`]: {
    doc: 'What the agent reports.',
    shape: () =>
      object('', {
        capacity: mapOf(
          ref(QUANTITY),
          'cpu, memory, ephemeral-storage and extended resources of the machine.',
        ),
        allocatable: mapOf(ref(QUANTITY), 'What replicas may request of it.'),
        conditions: listOf(ref(`${CORE}NodeCondition`), 'Ready: True while its agent reports.', BY_TYPE),
        addresses: listOf(object('', { type: str(), address: str() }), 'InternalIP and Hostname.', BY_TYPE),
        nodeInfo: object('The agent and its engine.', {
          kubeletVersion: str('berth-agent/<version>.'),
          containerRuntimeVersion: str(),
          osImage: str(),
          kernelVersion: str(),
          operatingSystem: str(),
          architecture: str(),
        }),
      }),
  },
  [`${CORE}NodeCondition`]: {
    doc: 'A condition of a node.',
    shape: () =>
      object(
        '',
        {
          type: str(),
          status: str(),
          reason: str(),
          message: str(),
          lastHeartbeatTime: time(),
          lastTransitionTime: time(),
        },
        ['type', 'status'],
      ),
  },
  [`${CORE}Namespace`]: {
    doc: 'A namespace. Berth namespaces come into being on first use and are names only; create and delete are not served.',
    shape: () =>
      object('', {
        apiVersion: str(),
        kind: str(),
        metadata: ref(OBJECT_META),
        spec: object('', { finalizers: listOf(str(), 'Always [kubernetes].') }),
        status: object(READ_ONLY, { phase: str('Always Active.') }),
      }),
    fields: { ...kindFields('v1', 'Namespace'), status: {} },
  },
  [`${CORE}Event`]: {
    doc: "One of Berth's events (the namespace's latest 1,000), as a core/v1 Event. Read-only.",
    shape: () =>
      object('', {
        apiVersion: str(),
        kind: str(),
        metadata: ref(OBJECT_META),
        involvedObject: ref(`${CORE}ObjectReference`, 'The Deployment, Job, CronJob or Node it is about.'),
        reason: str(),
        message: str(),
        type: str('Normal or Warning.'),
        source: object('', { component: str('berth') }),
        reportingComponent: str('berth'),
        reportingInstance: str(),
        firstTimestamp: time(),
        lastTimestamp: time(),
        count: int('Always 1: Berth records each event once.'),
      }),
    fields: kindFields('v1', 'Event'),
  },
  [`${CORE}ObjectReference`]: {
    doc: 'A reference to an object.',
    shape: () => object('', { apiVersion: str(), kind: str(), name: str(), namespace: str(), uid: str() }),
  },
  [`${CORE}Endpoints`]: {
    doc: "A Service's ready endpoints. Read-only. Berth publishes pod ports on their nodes, so an address is a node's and a port the host port there; each pod is a subset of its own.",
    shape: () =>
      object('', {
        apiVersion: str(),
        kind: str(),
        metadata: ref(OBJECT_META),
        subsets: listOf(ref(`${CORE}EndpointSubset`)),
      }),
    fields: kindFields('v1', 'Endpoints'),
  },
  [`${CORE}EndpointSubset`]: {
    doc: 'One ready pod.',
    shape: () =>
      object('', {
        addresses: listOf(
          object('', {
            ip: str("The node's address."),
            nodeName: str(),
            targetRef: ref(`${CORE}ObjectReference`),
          }),
        ),
        ports: listOf(object('', { name: str(), port: int('The host port.'), protocol: str() })),
      }),
  },
  [`${CORE}Secret`]: {
    doc: 'A Secret, without its values: Berth never returns them (write them with `berth apply` or `/v1`). Read-only here; the key names are in the berth.dev/keys annotation.',
    shape: () =>
      object('', {
        apiVersion: str(),
        kind: str(),
        metadata: ref(OBJECT_META),
        type: str('Opaque, kubernetes.io/dockerconfigjson, berth.dev/registry...'),
      }),
    fields: kindFields('v1', 'Secret'),
  },
  [`${CORE}ServiceAccount`]: {
    doc: 'A ServiceAccount, recorded so pods that name it are checked against it. Berth mounts no Kubernetes API token into pods.',
    shape: kindShape(ServiceAccountInput),
    fields: {
      ...kindFields('v1', 'ServiceAccount'),
      automountServiceAccountToken: {
        doc: 'Recorded; decides only whether an apply warns that no token is mounted.',
      },
    },
  },
  [`${CORE}PersistentVolumeClaim`]: {
    doc: 'A claim to node-local storage: its volume is made on the node of the first replica that mounts it, and replicas using it are placed there. Read here; write it with `kubectl apply` through `/v1/apply` (berth apply).',
    shape: kindShape(PersistentVolumeClaimInput),
    fields: {
      ...kindFields('v1', 'PersistentVolumeClaim', `${CORE}PersistentVolumeClaimStatus`),
      spec: { type: `${CORE}PersistentVolumeClaimSpec` },
    },
  },
  [`${CORE}PersistentVolumeClaimSpec`]: {
    doc: 'The storage asked for.',
    fields: {
      accessModes: {
        list: ATOMIC,
        doc: 'ReadWriteOnce or ReadWriteOncePod: node-local storage cannot be shared across nodes.',
      },
      resources: {
        doc: 'requests.storage: the size recorded (the local volume driver does not cap it); limits is refused.',
      },
      volumeMode: { doc: 'Only Filesystem: a claim is a directory on the node.' },
    },
  },
  [`${CORE}PersistentVolumeClaimStatus`]: {
    doc: 'Whether the claim has its volume yet.',
    shape: () =>
      object('', {
        phase: str(
          'Pending until a replica uses it, then Bound (its node is the volume.kubernetes.io/selected-node annotation).',
        ),
        capacity: mapOf(ref(QUANTITY), 'Once bound: the requested size.'),
        accessModes: listOf(str()),
      }),
  },
  [`${CORE}ConfigMap`]: {
    doc: 'Keys and values pods read through env (configMapKeyRef, envFrom) and volumes. Values are not secret: viewers read them.',
    shape: kindShape(ConfigMapInput),
    fields: {
      ...kindFields('v1', 'ConfigMap'),
      data: { doc: 'Text values by key (keys: letters, digits, -, _ and .; 1 MiB in all with binaryData).' },
      binaryData: { doc: 'Base64 values by key; a key is in data or binaryData, not both.' },
      immutable: { doc: 'Once true, data and binaryData never change: delete and re-create to change them.' },
    },
  },
};

const SERVICE: Record<string, TypeDoc> = {
  [`${CORE}Service`]: {
    doc: "A Service: a stable name and virtual IP for the ready replicas its selector matches, served by the agents on every node (as kube-proxy and cluster DNS are). Public hosts come from the berth.dev/hosts annotation, routed by Berth's ingress.",
    shape: kindShape(ServiceInput),
    fields: { ...kindFields('v1', 'Service', `${CORE}ServiceStatus`), spec: { type: `${CORE}ServiceSpec` } },
  },
  [`${CORE}ServiceSpec`]: {
    doc: 'How the service is reached and which replicas answer.',
    refused: [
      'externalIPs',
      'healthCheckNodePort',
      'loadBalancerClass',
      'loadBalancerIP',
      'loadBalancerSourceRanges',
      'trafficDistribution',
    ],
    fields: {
      type: {
        doc: "ClusterIP (default), NodePort (every node listens on each port's nodePort), LoadBalancer (node ports and its berth.dev/hosts at the ingress), ExternalName (a DNS alias).",
      },
      clusterIP: {
        doc: 'An IPv4 address of the service range, assigned when absent and kept (changing it is a 422); None: headless (the name resolves to the ready endpoints).',
      },
      externalName: { doc: 'ExternalName only: the DNS name the service name stands for.' },
      selector: { doc: 'Labels of the replicas that answer (of Deployments and Jobs of the namespace).' },
      ports: {
        type: `${CORE}ServicePort`,
        list: { type: 'map', keys: ['port', 'protocol'], mergeKey: 'port', strategy: 'merge' },
      },
      hosts: { hidden: true },
      tlsSecretName: { hidden: true },
      sessionAffinity: {
        doc: 'None (default) or ClientIP: the same client reaches the same replica for timeoutSeconds.',
      },
      sessionAffinityConfig: {
        doc: 'clientIP.timeoutSeconds: how long ClientIP affinity lasts (default 10800).',
      },
      allocateLoadBalancerNodePorts: {
        doc: 'LoadBalancer only: false gives it no node ports (its hosts at the ingress alone).',
      },
      clusterIPs: { shape: listOf(str(), 'Accepted only as [clusterIP]: a service has one IPv4 address.') },
      ipFamilies: {
        shape: { ...listOf(str(), 'Accepted only as [IPv4].'), items: { type: 'string', enum: ['IPv4'] } },
      },
      ipFamilyPolicy: onlyDefault('SingleStack'),
      internalTrafficPolicy: onlyDefault('Cluster'),
      externalTrafficPolicy: onlyDefault('Cluster'),
      publishNotReadyAddresses: onlyDefault(false),
    },
  },
  [`${CORE}ServicePort`]: {
    doc: 'A port of the service.',
    fields: {
      port: { doc: 'The port on the cluster IP.' },
      targetPort: { doc: 'The container port (a number or a name) the traffic goes to; default: port.' },
      protocol: { doc: 'TCP (default) or UDP; SCTP is refused.' },
      nodePort: { doc: 'NodePort and LoadBalancer: the port every node listens on; assigned when absent.' },
      appProtocol: { shape: str('Accepted and dropped: a hint without behaviour.') },
    },
  },
  [`${CORE}ServiceStatus`]: {
    doc: READ_ONLY,
    shape: () => object('', { loadBalancer: object('Always empty.', {}) }),
  },
};

const JOB_TEMPLATE_FIELDS: Record<string, FieldDoc> = {
  template: {
    type: `${CORE}PodTemplateSpec`,
    doc: 'The pod each attempt runs; restartPolicy must be Never or OnFailure.',
  },
  completions: { doc: 'Pods that must succeed; absent: done when one has succeeded and none runs.' },
  parallelism: { doc: 'Pods at most at once (default 1).' },
  backoffLimit: { doc: 'Failed pods before the Job fails (default 6); retries back off exponentially.' },
  activeDeadlineSeconds: { doc: 'Seconds the Job may run before it fails with DeadlineExceeded.' },
  ttlSecondsAfterFinished: { doc: 'Seconds after it finishes that Berth deletes the Job.' },
  completionMode: { doc: 'NonIndexed (default) or Indexed: pod i gets JOB_COMPLETION_INDEX=i.' },
  suspend: { doc: 'true: no pods start (running ones stop) until it is false again.' },
  selector: {
    doc: 'Set by Berth (batch.kubernetes.io/job-name); written back as read, it must name the Job.',
  },
};

const BATCH_TYPES: Record<string, TypeDoc> = {
  [`${BATCH}Job`]: {
    doc: 'A Job: pods run to completion, completions of them succeed, at most parallelism at once.',
    shape: kindShape(JobInput),
    fields: { ...kindFields('batch/v1', 'Job', `${BATCH}JobStatus`), spec: { type: `${BATCH}JobSpec` } },
  },
  [`${BATCH}JobSpec`]: { doc: 'What the Job runs and when it is done.', fields: JOB_TEMPLATE_FIELDS },
  [`${BATCH}JobStatus`]: {
    doc: "The Job's pods, counted.",
    shape: () => fromZod(JobStatus),
    fields: {
      conditions: {
        type: `${BATCH}JobCondition`,
        list: { type: 'atomic', mergeKey: 'type', strategy: 'merge' },
        doc: 'Complete, Failed or Suspended.',
      },
    },
  },
  [`${BATCH}JobCondition`]: { doc: 'A condition of a Job.' },
  [`${BATCH}CronJob`]: {
    doc: 'A CronJob: Berth makes a Job from jobTemplate at each time of the schedule.',
    shape: kindShape(CronJobInput),
    fields: {
      ...kindFields('batch/v1', 'CronJob', `${BATCH}CronJobStatus`),
      spec: { type: `${BATCH}CronJobSpec` },
    },
  },
  [`${BATCH}CronJobSpec`]: {
    doc: 'When to run and what.',
    fields: {
      schedule: {
        doc: 'Five cron fields (minute hour day-of-month month day-of-week) or a macro (@hourly, @daily...), read in timeZone.',
      },
      timeZone: { doc: 'An IANA zone name (Europe/Paris); absent: UTC.' },
      concurrencyPolicy: {
        doc: 'Allow (default), Forbid (skip a run while one is active) or Replace (stop the active one).',
      },
      startingDeadlineSeconds: { doc: 'A run missed by more than this is skipped.' },
      suspend: { doc: 'true: no new runs (active ones go on).' },
      successfulJobsHistoryLimit: { doc: 'Succeeded Jobs kept (default 3).' },
      failedJobsHistoryLimit: { doc: 'Failed Jobs kept (default 1).' },
      jobTemplate: { type: `${BATCH}JobTemplateSpec` },
    },
  },
  [`${BATCH}JobTemplateSpec`]: {
    doc: 'The Job made at each run.',
    fields: {
      metadata: { doc: 'Labels and annotations of the Jobs made.' },
      spec: { type: `${BATCH}JobSpec` },
    },
  },
  [`${BATCH}CronJobStatus`]: {
    doc: 'Runs of the CronJob.',
    shape: () => fromZod(CronJobStatus),
    fields: {
      active: { type: `${CORE}ObjectReference`, list: ATOMIC, doc: 'Its Jobs that have not finished.' },
    },
  },
};

const INGRESS: Record<string, TypeDoc> = {
  [`${NETWORKING}Ingress`]: {
    doc: "An Ingress, served by Berth's own ingress (the control plane's proxy and each node's): host and path to a Service.",
    shape: kindShape(IngressInput),
    fields: {
      ...kindFields('networking.k8s.io/v1', 'Ingress', `${NETWORKING}IngressStatus`),
      spec: { type: `${NETWORKING}IngressSpec` },
    },
  },
  [`${NETWORKING}IngressSpec`]: {
    doc: 'The routes.',
    fields: {
      ingressClassName: { doc: 'Absent or berth: the only ingress controller is Berth.' },
      rules: {
        type: `${NETWORKING}IngressRule`,
        list: ATOMIC,
        doc: 'Host and paths to services; an exact host wins over a wildcard, then Exact over the longest Prefix.',
      },
      tls: { type: `${NETWORKING}IngressTLS`, list: ATOMIC },
    },
  },
  [`${NETWORKING}IngressRule`]: {
    doc: 'The paths of one host.',
    fields: {
      host: { doc: 'A host name (or *.wildcard) the namespace policy allows.' },
      http: { type: `${NETWORKING}HTTPIngressRuleValue` },
    },
  },
  [`${NETWORKING}HTTPIngressRuleValue`]: {
    doc: 'The paths of a host.',
    fields: { paths: { type: `${NETWORKING}HTTPIngressPath`, list: ATOMIC } },
  },
  [`${NETWORKING}HTTPIngressPath`]: {
    doc: 'A path to a backend.',
    fields: {
      path: { doc: 'An absolute path.' },
      pathType: { doc: 'Prefix (by path element), Exact, or ImplementationSpecific (matched as Prefix).' },
      backend: { type: `${NETWORKING}IngressBackend` },
    },
  },
  [`${NETWORKING}IngressBackend`]: {
    doc: 'The service that answers.',
    fields: { service: { type: `${NETWORKING}IngressServiceBackend` } },
  },
  [`${NETWORKING}IngressServiceBackend`]: {
    doc: 'A Service of the namespace and one of its ports.',
    fields: { port: { type: `${NETWORKING}ServiceBackendPort` } },
  },
  [`${NETWORKING}ServiceBackendPort`]: { doc: 'A port by number or by name; exactly one.' },
  [`${NETWORKING}IngressTLS`]: {
    doc: 'A kubernetes.io/tls Secret served for hosts of the rules (wildcards included) instead of an ACME certificate, by a control plane on Node that serves HTTPS itself and by nodes whose agents serve HTTPS (with neither, a 422).',
    fields: { hosts: { list: ATOMIC } },
  },
  [`${NETWORKING}IngressStatus`]: {
    doc: READ_ONLY,
    shape: () => object('', { loadBalancer: object('Always empty.', {}) }),
  },
};

const MACHINERY: Record<string, TypeDoc> = {
  [OBJECT_META]: {
    doc: "An object's metadata. A write takes name, namespace, labels and annotations; the rest is Berth's (a resourceVersion in a write is its precondition).",
    refused: ['deletionGracePeriodSeconds', 'finalizers', 'generateName'],
    shape: () =>
      object('', {
        name: str('Unique per kind in the namespace (a DNS label).'),
        namespace: str("The namespace; absent: the request's."),
        labels: mapOf(str(), 'Selected by -l, Services and selectors.'),
        annotations: mapOf(
          str(),
          'Kept as written (kubectl keeps its last-applied-configuration here); berth.dev/hosts on a Service are its public hosts, berth.dev/tls-secret the kubernetes.io/tls Secret served for them.',
        ),
        uid: str(READ_ONLY),
        resourceVersion: str(
          'The version this object was read at; a write with it fails with 409 Conflict if the object changed since.',
        ),
        generation: int(`${READ_ONLY} Grows with every change of the spec.`),
        creationTimestamp: time(READ_ONLY),
        deletionTimestamp: time(`${READ_ONLY} Set while the object is going away.`),
        ownerReferences: listOf(
          ref(`${META}OwnerReference`),
          `${READ_ONLY} Its controller: a Pod's ReplicaSet or Job, a ReplicaSet's Deployment.`,
          { type: 'map', keys: ['uid'], mergeKey: 'uid', strategy: 'merge' },
        ),
        managedFields: listOf(
          ref(`${META}ManagedFieldsEntry`),
          'Who set which field, kept for server-side apply (kubectl shows it with --show-managed-fields). A write that changes it replaces it.',
        ),
      }),
  },
  [`${META}ManagedFieldsEntry`]: {
    doc: "One manager's fields: those of its last server-side apply (Apply), or those its other writes changed (Update).",
    shape: () =>
      object('', {
        manager: str('The fieldManager of the writes (kubectl, kubectl-client-side-apply, ...).'),
        operation: str('Apply or Update.'),
        apiVersion: str('The version of the kind the fields were written in.'),
        time: time('When the fields last changed.'),
        fieldsType: str('FieldsV1, the only format.'),
        fieldsV1: ref(`${META}FieldsV1`, 'The fields, as a tree.'),
        subresource: str('scale, for kubectl scale; absent for the object itself.'),
      }),
  },
  [`${META}FieldsV1`]: {
    doc: 'A set of fields as a tree: f:<name> for a field, k:{...} for a list item by its key, v:<value> for a set item, and "." for a node owned itself.',
    shape: () => ({ type: 'object' }),
  },
  [`${META}OwnerReference`]: {
    doc: "The object's controller.",
    shape: () =>
      object('', { apiVersion: str(), kind: str(), name: str(), uid: str(), controller: bool() }, [
        'apiVersion',
        'kind',
        'name',
        'uid',
      ]),
  },
  [TIME]: { doc: 'An RFC 3339 instant, in UTC.', shape: () => ({ type: 'string', format: 'date-time' }) },
  [QUANTITY]: {
    doc: 'A quantity as Kubernetes writes it: 500m CPU, 128Mi, 1Gi, or a plain number.',
    shape: () => ({ oneOf: [{ type: 'string' }, { type: 'number' }] }),
  },
  [INT_OR_STRING]: {
    doc: 'A number or a string: a port number or name, or a percentage.',
    shape: () => ({ type: 'string', format: 'int-or-string' }),
  },
  [PATCH]: {
    doc: 'A patch: JSON patch (RFC 6902), merge patch, strategic merge patch or server-side apply, as Kubernetes takes them.',
    shape: () => ({ type: 'object' }),
  },
};

/**
 * The leaf fields of the smaller types, by type: what each means on Berth. Kept apart from the
 * table above, which says the structure (named types, list metadata) and the fields Berth treats
 * in its own way.
 */
const LEAF_DOCS: Record<string, Record<string, string>> = {
  [`${APPS}DeploymentStatus`]: {
    observedGeneration:
      'The generation the controller last acted on: the counts and conditions describe that one.',
    replicas: 'Replicas of every revision the controller wants running.',
    updatedReplicas: 'Of those, replicas of the current revision.',
    readyReplicas: 'Replicas whose readiness probes pass.',
    availableReplicas: 'Ready for at least minReadySeconds.',
    unavailableReplicas: 'Wanted replicas not available yet.',
  },
  [`${APPS}DeploymentCondition`]: conditionDocs(
    'NewReplicaSetCreated, ReplicaSetUpdated, NewRevisionAvailable (the rollout is complete), DeploymentPaused, ProgressDeadlineExceeded; MinimumReplicasAvailable, MinimumReplicasUnavailable.',
    'lastUpdateTime',
  ),
  [`${BATCH}JobCondition`]: conditionDocs(
    'Why (BackoffLimitExceeded, DeadlineExceeded, ...).',
    'lastProbeTime',
  ),
  [`${BATCH}JobStatus`]: {
    startTime: 'When the Job started.',
    completionTime: 'When it completed.',
    active: 'Pods running or waiting for a place.',
    ready: 'Active pods that are ready.',
    terminating: 'Pods told to stop, not yet gone.',
    succeeded: 'Pods that succeeded.',
    failed: 'Pods that failed.',
    completedIndexes: 'Indexed Jobs: the indexes that succeeded, as intervals ("0-2,5").',
  },
  [`${BATCH}CronJobStatus`]: {
    lastScheduleTime: 'The scheduled time of the last Job it made.',
    lastSuccessfulTime: 'When the newest of its Jobs still kept completed.',
  },
  [`${CORE}EnvVar`]: {
    name: 'The variable name (letters, digits, -, _ and ., not starting with a digit).',
    value: 'The value; $(NAME) references to earlier variables are expanded ($$ escapes).',
  },
  [`${CORE}EnvFromSource`]: { prefix: 'Put before each key to make the variable name.' },
  [`${CORE}SecretKeySelector`]: keyDocs('Secret'),
  [`${CORE}ConfigMapKeySelector`]: keyDocs('ConfigMap'),
  [`${CORE}SecretEnvSource`]: sourceDocs('Secret'),
  [`${CORE}ConfigMapEnvSource`]: sourceDocs('ConfigMap'),
  [`${CORE}ObjectFieldSelector`]: { apiVersion: 'v1 (the only one).', fieldPath: 'The field of the pod.' },
  [`${CORE}ResourceFieldSelector`]: {
    containerName: 'The container (absent: this one).',
    resource: 'limits.cpu, limits.memory, requests.cpu or requests.memory.',
    divisor: 'The unit (default 1): 1m for millicores, 1Mi for mebibytes.',
  },
  [`${CORE}HTTPGetAction`]: {
    path: 'The path (default /).',
    scheme: 'HTTP (default) or HTTPS (certificates are not verified).',
  },
  [`${CORE}HTTPHeader`]: { name: 'The header name.', value: 'Its value.' },
  [`${CORE}TCPSocketAction`]: { port: 'A port number or the name of a container port.' },
  [`${CORE}ExecAction`]: { command: 'The command and its arguments.' },
  [`${CORE}GRPCAction`]: {
    port: 'The port number (names are not taken).',
    service: 'The service name to check (absent: the whole server).',
  },
  [`${CORE}SleepAction`]: { seconds: 'Seconds to wait.' },
  [`${CORE}SecurityContext`]: {
    runAsUser: "The user the process runs as (the image's when absent).",
    runAsGroup: 'Its primary group.',
    runAsNonRoot: 'Refuse to start when the user would be root.',
    readOnlyRootFilesystem: "The container's root filesystem is read-only.",
  },
  [`${CORE}PodSecurityContext`]: {
    runAsUser: 'The user of every container that does not set its own.',
    runAsGroup: 'The primary group of every container that does not set its own.',
    runAsNonRoot: 'Refuse to start a container whose user would be root.',
    supplementalGroups: 'Groups of every container besides its primary one.',
    fsGroupChangePolicy:
      'Always or OnRootMismatch: only how volumes are given to fsGroup; the result is the same.',
  },
  [`${CORE}Capabilities`]: {
    add: 'Capabilities to add (the namespace policy lists those allowed).',
    drop: 'Capabilities to drop (ALL for every one).',
  },
  [`${CORE}SeccompProfile`]: {
    type: 'RuntimeDefault, Unconfined or Localhost.',
    localhostProfile: 'Localhost: the profile file on the node.',
  },
  [`${CORE}AppArmorProfile`]: { type: 'RuntimeDefault: the engine default profile.' },
  [`${CORE}Volume`]: { name: 'The name volumeMounts use.' },
  [`${CORE}VolumeMount`]: { name: 'A volume of the pod.', readOnly: 'Mounted read-only.' },
  [`${CORE}EmptyDirVolumeSource`]: {
    medium: '"" (the node disk) or Memory (a tmpfs).',
    sizeLimit: 'The most it may hold (a tmpfs size for Memory).',
  },
  [`${CORE}ConfigMapVolumeSource`]: {
    name: 'The ConfigMap of the namespace.',
    defaultMode: 'The mode of the files (default 0644).',
    optional: 'true: an absent ConfigMap is an empty volume instead of a wait.',
  },
  [`${CORE}SecretVolumeSource`]: {
    secretName: 'The Secret of the namespace.',
    defaultMode: 'The mode of the files (default 0644).',
    optional: 'true: an absent Secret is an empty volume instead of a wait.',
  },
  [`${CORE}KeyToPath`]: { key: 'The key.', path: 'The relative file path.', mode: 'The mode of this file.' },
  [`${CORE}PersistentVolumeClaimVolumeSource`]: {
    claimName: 'The claim of the namespace.',
    readOnly: 'Mounted read-only.',
  },
  [`${CORE}HostPathVolumeSource`]: {
    path: 'The directory on the node.',
    type: 'What must be there (Directory, DirectoryOrCreate, File...).',
  },
  [`${CORE}NodeSelectorRequirement`]: {
    key: 'A node label (matchExpressions) or metadata.name (matchFields).',
    operator: 'In, NotIn, Exists, DoesNotExist, Gt or Lt.',
    values: 'The values (one integer for Gt and Lt; none for Exists and DoesNotExist).',
  },
  [`${CORE}PreferredSchedulingTerm`]: { weight: '1 to 100: added to the score of a node that matches.' },
  [`${CORE}WeightedPodAffinityTerm`]: { weight: '1 to 100: added to the score of a node that matches.' },
  [`${CORE}PodAffinityTerm`]: {
    topologyKey: 'The node label whose value is one domain (kubernetes.io/hostname: each node).',
    namespaces: "Only the pod's own namespace may be named.",
  },
  [`${META}LabelSelector`]: { matchLabels: 'Labels that must all be equal.' },
  [`${META}LabelSelectorRequirement`]: {
    key: 'The label.',
    operator: 'In, NotIn, Exists or DoesNotExist.',
    values: 'The values for In and NotIn.',
  },
  [`${CORE}Toleration`]: {
    key: 'The taint key (empty with Exists: every taint).',
    operator: 'Equal (default) or Exists.',
    value: 'The taint value, for Equal.',
    effect: 'NoSchedule, PreferNoSchedule or NoExecute (empty: all).',
    tolerationSeconds: 'NoExecute: how long the pod stays on a node after the taint appears.',
  },
  [`${CORE}Taint`]: {
    key: 'The taint key.',
    value: 'Its value.',
    effect: 'NoSchedule, PreferNoSchedule or NoExecute.',
  },
  [`${CORE}TopologySpreadConstraint`]: {
    maxSkew: 'The most one domain may hold above the emptiest.',
    topologyKey: 'The node label whose value is one domain.',
    whenUnsatisfiable: 'DoNotSchedule (a hard rule) or ScheduleAnyway (a preference).',
  },
  [`${CORE}ServicePort`]: {
    name: 'Required when the service has several ports; endpoints and Ingresses name it.',
  },
  [`${CORE}PersistentVolumeClaimSpec`]: {
    storageClassName: 'Recorded; every claim is node-local storage whatever it names.',
  },
  [`${APPS}ReplicaSet`]: { spec: "The revision's template and replicas." },
  [`${CORE}Node`]: { spec: 'Whether new replicas may be placed here, and its taints.' },
  [`${CORE}Namespace`]: { spec: 'Always finalizers: [kubernetes].' },
  [`${CORE}PodCondition`]: {
    type: 'PodScheduled, Initialized, ContainersReady or Ready.',
    lastProbeTime: 'Always empty.',
    lastTransitionTime: "The replica's last change.",
  },
  [`${CORE}ContainerStatus`]: {
    name: 'The container.',
    state: 'Running, terminated (with its exit code) or waiting (with why).',
    image: 'Always empty: the image is in the spec.',
    imageID: 'Always empty.',
  },
  [`${CORE}ContainerState`]: {
    running: "It runs (startedAt: the replica's last change).",
    terminated: 'It exited: exitCode, reason (Completed, Error, OOMKilled...), finishedAt.',
    waiting:
      'It is not running yet, or again: reason (ContainerCreating, ImagePullBackOff, CrashLoopBackOff...).',
  },
  [`${CORE}NodeCondition`]: {
    type: 'Ready.',
    status: 'True while the agent reports, Unknown once it stopped.',
    reason: 'AgentReady or AgentStoppedReporting.',
    message: 'What happened, in words.',
    lastHeartbeatTime: "The agent's last report.",
    lastTransitionTime: "The agent's last report.",
  },
  [`${CORE}Event`]: {
    reason: 'Why, in one word (ScalingReplicaSet, Scheduled, BackOff...).',
    message: 'What happened, in words.',
    source: 'Always component: berth.',
    reportingInstance: 'Always empty.',
    firstTimestamp: 'When it happened.',
    lastTimestamp: 'The same: each event is recorded once.',
  },
  [`${CORE}ObjectReference`]: {
    apiVersion: 'Its group and version.',
    kind: 'Its kind.',
    name: 'Its name.',
    namespace: 'Its namespace.',
    uid: 'Its uid.',
  },
  [`${CORE}Endpoints`]: { subsets: 'One per ready pod; none while no replica is ready.' },
  [`${CORE}EndpointSubset`]: {
    addresses: "The pod's address: its node's (ip, nodeName, targetRef: the Pod).",
    ports: 'The ports of the pod as published on its node: port is the host port.',
  },
  [`${CORE}PersistentVolumeClaimStatus`]: { accessModes: "Once bound: the claim's access modes." },
  [`${META}OwnerReference`]: {
    apiVersion: 'Its group and version.',
    kind: 'Its kind.',
    name: 'Its name.',
    uid: 'Its uid.',
    controller: 'Always true.',
  },
  [`${NETWORKING}IngressServiceBackend`]: { name: 'The Service.' },
  [`${NETWORKING}ServiceBackendPort`]: {
    number: 'A port of the Service.',
    name: 'A port name of the Service.',
  },
  [`${NETWORKING}IngressTLS`]: {
    hosts: 'Hosts of the rules the certificate serves.',
    secretName: 'A kubernetes.io/tls Secret of the namespace.',
  },
};

function conditionDocs(reasons: string, checked: 'lastUpdateTime' | 'lastProbeTime'): Record<string, string> {
  return {
    type: 'The condition.',
    status: 'True or False.',
    reason: reasons,
    message: 'What happened, in words.',
    lastTransitionTime: 'When status last changed.',
    [checked]:
      checked === 'lastUpdateTime'
        ? 'When the condition was last written.'
        : 'When the condition was last checked.',
  };
}

function keyDocs(kind: string): Record<string, string> {
  return {
    name: `The ${kind} of the namespace.`,
    key: 'The key whose value is taken.',
    optional: `true: an absent ${kind} or key leaves the variable out instead of making the replica wait.`,
  };
}

function sourceDocs(kind: string): Record<string, string> {
  return {
    name: `The ${kind} of the namespace.`,
    optional: `true: an absent ${kind} adds nothing instead of making the replica wait.`,
  };
}

/** The table with the leaf descriptions in place. */
function withLeafDocs(table: TypeTable): TypeTable {
  const out: TypeTable = { ...table };
  for (const [name, docs] of Object.entries(LEAF_DOCS)) {
    const t = out[name];
    if (!t) throw new Error(`leaf descriptions for ${name}, which is not in the table`);
    const fields = { ...t.fields };
    for (const [field, doc] of Object.entries(docs)) fields[field] = { doc, ...fields[field] };
    out[name] = { ...t, fields };
  }
  return out;
}

export const KUBE_TYPES: TypeTable = withLeafDocs({
  ...DEPLOYMENT,
  ...POD,
  ...CORE_READS,
  ...SERVICE,
  ...BATCH_TYPES,
  ...INGRESS,
  ...MACHINERY,
});

/** The schema name of each kind Berth serves. */
export function kindSchema(group: string, kind: string): string {
  const prefix = { '': CORE, apps: APPS, batch: BATCH, 'networking.k8s.io': NETWORKING }[group];
  if (!prefix) throw new Error(`no schema prefix for group ${group}`);
  return `${prefix}${kind}`;
}
