/**
 * The protobuf messages of the kinds kubectl's typed clients create (`kubectl create configmap|
 * secret|deployment|service|job|cronjob|ingress|serviceaccount|namespace`), as data: for each
 * message, every field's JSON name, number and type, so protobuf.ts can turn a body into the JSON
 * object the same command would have sent as JSON.
 *
 * The field numbers are Kubernetes' own, from the `generated.proto` files of k8s.io/api v0.32.4
 * (core/v1, apps/v1, batch/v1, networking/v1) and k8s.io/apimachinery v0.32.4 (pkg/apis/meta/v1,
 * pkg/util/intstr, pkg/api/resource, pkg/runtime): the descriptors kubectl v1.32.4 was built with.
 * Every message reachable from the kinds above is listed whole, so a field Kubernetes defines is
 * never taken for an unknown one; Berth's own checks then accept or refuse it as they do in JSON.
 *
 * One field per `name=number:type`:
 * - `string`, `int32`, `int64`, `bool`, `bytes` (a base64 string, as JSON has it), or a message;
 * - `[]T` repeated; `{T}` a map from string to T;
 * - `...T` a message Go embeds with `json:",inline"`: its fields are its parent's in JSON;
 * - `T?` a scalar that is a pointer in Go (`*int32`, `*bool`): a zero value there was set on purpose
 *   and is kept (`replicas: 0`). Other scalars at their zero value are what Go's JSON leaves out.
 * - Time, Quantity, IntOrString, FieldsV1 and RawExtension have JSON forms of their own (protobuf.ts).
 */

/** The messages whose JSON form is not their fields' (protobuf.ts decodes them). */
export const SPECIAL_MESSAGES = ['Time', 'Quantity', 'IntOrString', 'FieldsV1', 'RawExtension'] as const;
export type SpecialMessage = (typeof SPECIAL_MESSAGES)[number];

export type ScalarType = 'string' | 'int32' | 'int64' | 'bool' | 'bytes';
const SCALARS = new Set<string>(['string', 'int32', 'int64', 'bool', 'bytes']);

export interface FieldSchema {
  name: string;
  number: number;
  /** A scalar type or a message name. */
  type: string;
  scalar: boolean;
  repeated: boolean;
  /** A map from string to `type`. */
  map: boolean;
  /** Embedded in Go with `json:",inline"`. */
  inline: boolean;
  /** A Go pointer: its zero value is kept. */
  keepZero: boolean;
}

export type MessageSchema = ReadonlyMap<number, FieldSchema>;

/** The top-level message for each kind, by `apiVersion/kind` as the envelope names it. */
export const KINDS: Readonly<Record<string, string>> = {
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/ServiceAccount': 'ServiceAccount',
  'v1/Namespace': 'Namespace',
  'v1/Service': 'Service',
  'apps/v1/Deployment': 'Deployment',
  'batch/v1/Job': 'Job',
  'batch/v1/CronJob': 'CronJob',
  'networking.k8s.io/v1/Ingress': 'Ingress',
};

const TABLE: Record<string, string> = {
  ConfigMap: `metadata=1:ObjectMeta data=2:{string} binaryData=3:{bytes} immutable=4:bool?`,
  Secret: `metadata=1:ObjectMeta data=2:{bytes} type=3:string stringData=4:{string} immutable=5:bool?`,
  ServiceAccount: `metadata=1:ObjectMeta secrets=2:[]ObjectReference imagePullSecrets=3:[]LocalObjectReference
    automountServiceAccountToken=4:bool?`,
  Namespace: `metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:NamespaceStatus`,
  Service: `metadata=1:ObjectMeta spec=2:ServiceSpec status=3:ServiceStatus`,
  Deployment: `metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus`,
  Job: `metadata=1:ObjectMeta spec=2:JobSpec status=3:JobStatus`,
  CronJob: `metadata=1:ObjectMeta spec=2:CronJobSpec status=3:CronJobStatus`,
  Ingress: `metadata=1:ObjectMeta spec=2:IngressSpec status=3:IngressStatus`,
  ObjectMeta: `name=1:string generateName=2:string namespace=3:string selfLink=4:string uid=5:string
    resourceVersion=6:string generation=7:int64 creationTimestamp=8:Time
    deletionTimestamp=9:Time deletionGracePeriodSeconds=10:int64? labels=11:{string}
    annotations=12:{string} ownerReferences=13:[]OwnerReference finalizers=14:[]string
    managedFields=17:[]ManagedFieldsEntry`,
  ObjectReference: `kind=1:string namespace=2:string name=3:string uid=4:string apiVersion=5:string
    resourceVersion=6:string fieldPath=7:string`,
  LocalObjectReference: `name=1:string`,
  NamespaceSpec: `finalizers=1:[]string`,
  NamespaceStatus: `phase=1:string conditions=2:[]NamespaceCondition`,
  ServiceSpec: `ports=1:[]ServicePort selector=2:{string} clusterIP=3:string type=4:string
    externalIPs=5:[]string sessionAffinity=7:string loadBalancerIP=8:string
    loadBalancerSourceRanges=9:[]string externalName=10:string externalTrafficPolicy=11:string
    healthCheckNodePort=12:int32 publishNotReadyAddresses=13:bool
    sessionAffinityConfig=14:SessionAffinityConfig ipFamilyPolicy=17:string?
    clusterIPs=18:[]string ipFamilies=19:[]string allocateLoadBalancerNodePorts=20:bool?
    loadBalancerClass=21:string? internalTrafficPolicy=22:string? trafficDistribution=23:string?`,
  ServiceStatus: `loadBalancer=1:LoadBalancerStatus conditions=2:[]Condition`,
  DeploymentSpec: `replicas=1:int32? selector=2:LabelSelector template=3:PodTemplateSpec
    strategy=4:DeploymentStrategy minReadySeconds=5:int32 revisionHistoryLimit=6:int32?
    paused=7:bool progressDeadlineSeconds=9:int32?`,
  DeploymentStatus: `observedGeneration=1:int64 replicas=2:int32 updatedReplicas=3:int32
    availableReplicas=4:int32 unavailableReplicas=5:int32 conditions=6:[]DeploymentCondition
    readyReplicas=7:int32 collisionCount=8:int32?`,
  JobSpec: `parallelism=1:int32? completions=2:int32? activeDeadlineSeconds=3:int64?
    selector=4:LabelSelector manualSelector=5:bool? template=6:PodTemplateSpec
    backoffLimit=7:int32? ttlSecondsAfterFinished=8:int32? completionMode=9:string?
    suspend=10:bool? podFailurePolicy=11:PodFailurePolicy backoffLimitPerIndex=12:int32?
    maxFailedIndexes=13:int32? podReplacementPolicy=14:string? managedBy=15:string?
    successPolicy=16:SuccessPolicy`,
  JobStatus: `conditions=1:[]JobCondition startTime=2:Time completionTime=3:Time active=4:int32
    succeeded=5:int32 failed=6:int32 completedIndexes=7:string
    uncountedTerminatedPods=8:UncountedTerminatedPods ready=9:int32? failedIndexes=10:string?
    terminating=11:int32?`,
  CronJobSpec: `schedule=1:string startingDeadlineSeconds=2:int64? concurrencyPolicy=3:string
    suspend=4:bool? jobTemplate=5:JobTemplateSpec successfulJobsHistoryLimit=6:int32?
    failedJobsHistoryLimit=7:int32? timeZone=8:string?`,
  CronJobStatus: `active=1:[]ObjectReference lastScheduleTime=4:Time lastSuccessfulTime=5:Time`,
  IngressSpec: `defaultBackend=1:IngressBackend tls=2:[]IngressTLS rules=3:[]IngressRule
    ingressClassName=4:string?`,
  IngressStatus: `loadBalancer=1:IngressLoadBalancerStatus`,
  OwnerReference: `kind=1:string name=3:string uid=4:string apiVersion=5:string controller=6:bool?
    blockOwnerDeletion=7:bool?`,
  ManagedFieldsEntry: `manager=1:string operation=2:string apiVersion=3:string time=4:Time fieldsType=6:string
    fieldsV1=7:FieldsV1 subresource=8:string`,
  NamespaceCondition: `type=1:string status=2:string lastTransitionTime=4:Time reason=5:string message=6:string`,
  ServicePort: `name=1:string protocol=2:string port=3:int32 targetPort=4:IntOrString nodePort=5:int32
    appProtocol=6:string?`,
  SessionAffinityConfig: `clientIP=1:ClientIPConfig`,
  LoadBalancerStatus: `ingress=1:[]LoadBalancerIngress`,
  Condition: `type=1:string status=2:string observedGeneration=3:int64 lastTransitionTime=4:Time
    reason=5:string message=6:string`,
  LabelSelector: `matchLabels=1:{string} matchExpressions=2:[]LabelSelectorRequirement`,
  PodTemplateSpec: `metadata=1:ObjectMeta spec=2:PodSpec`,
  DeploymentStrategy: `type=1:string rollingUpdate=2:RollingUpdateDeployment`,
  DeploymentCondition: `type=1:string status=2:string reason=4:string message=5:string lastUpdateTime=6:Time
    lastTransitionTime=7:Time`,
  PodFailurePolicy: `rules=1:[]PodFailurePolicyRule`,
  SuccessPolicy: `rules=1:[]SuccessPolicyRule`,
  JobCondition: `type=1:string status=2:string lastProbeTime=3:Time lastTransitionTime=4:Time reason=5:string
    message=6:string`,
  UncountedTerminatedPods: `succeeded=1:[]string failed=2:[]string`,
  JobTemplateSpec: `metadata=1:ObjectMeta spec=2:JobSpec`,
  IngressBackend: `resource=3:TypedLocalObjectReference service=4:IngressServiceBackend`,
  IngressTLS: `hosts=1:[]string secretName=2:string`,
  IngressRule: `host=1:string ingressRuleValue=2:...IngressRuleValue`,
  IngressLoadBalancerStatus: `ingress=1:[]IngressLoadBalancerIngress`,
  ClientIPConfig: `timeoutSeconds=1:int32?`,
  LoadBalancerIngress: `ip=1:string hostname=2:string ipMode=3:string? ports=4:[]PortStatus`,
  LabelSelectorRequirement: `key=1:string operator=2:string values=3:[]string`,
  PodSpec: `volumes=1:[]Volume containers=2:[]Container restartPolicy=3:string
    terminationGracePeriodSeconds=4:int64? activeDeadlineSeconds=5:int64? dnsPolicy=6:string
    nodeSelector=7:{string} serviceAccountName=8:string serviceAccount=9:string
    nodeName=10:string hostNetwork=11:bool hostPID=12:bool hostIPC=13:bool
    securityContext=14:PodSecurityContext imagePullSecrets=15:[]LocalObjectReference
    hostname=16:string subdomain=17:string affinity=18:Affinity schedulerName=19:string
    initContainers=20:[]Container automountServiceAccountToken=21:bool?
    tolerations=22:[]Toleration hostAliases=23:[]HostAlias priorityClassName=24:string
    priority=25:int32? dnsConfig=26:PodDNSConfig shareProcessNamespace=27:bool?
    readinessGates=28:[]PodReadinessGate runtimeClassName=29:string? enableServiceLinks=30:bool?
    preemptionPolicy=31:string? overhead=32:{Quantity}
    topologySpreadConstraints=33:[]TopologySpreadConstraint
    ephemeralContainers=34:[]EphemeralContainer setHostnameAsFQDN=35:bool? os=36:PodOS
    hostUsers=37:bool? schedulingGates=38:[]PodSchedulingGate
    resourceClaims=39:[]PodResourceClaim resources=40:ResourceRequirements`,
  RollingUpdateDeployment: `maxUnavailable=1:IntOrString maxSurge=2:IntOrString`,
  PodFailurePolicyRule: `action=1:string onExitCodes=2:PodFailurePolicyOnExitCodesRequirement
    onPodConditions=3:[]PodFailurePolicyOnPodConditionsPattern`,
  SuccessPolicyRule: `succeededIndexes=1:string? succeededCount=2:int32?`,
  IngressServiceBackend: `name=1:string port=2:ServiceBackendPort`,
  TypedLocalObjectReference: `apiGroup=1:string? kind=2:string name=3:string`,
  IngressRuleValue: `http=1:HTTPIngressRuleValue`,
  IngressLoadBalancerIngress: `ip=1:string hostname=2:string ports=4:[]IngressPortStatus`,
  PortStatus: `port=1:int32 protocol=2:string error=3:string?`,
  Volume: `name=1:string volumeSource=2:...VolumeSource`,
  Container: `name=1:string image=2:string command=3:[]string args=4:[]string workingDir=5:string
    ports=6:[]ContainerPort env=7:[]EnvVar resources=8:ResourceRequirements
    volumeMounts=9:[]VolumeMount livenessProbe=10:Probe readinessProbe=11:Probe
    lifecycle=12:Lifecycle terminationMessagePath=13:string imagePullPolicy=14:string
    securityContext=15:SecurityContext stdin=16:bool stdinOnce=17:bool tty=18:bool
    envFrom=19:[]EnvFromSource terminationMessagePolicy=20:string
    volumeDevices=21:[]VolumeDevice startupProbe=22:Probe
    resizePolicy=23:[]ContainerResizePolicy restartPolicy=24:string?`,
  EphemeralContainer: `ephemeralContainerCommon=1:...EphemeralContainerCommon targetContainerName=2:string`,
  PodSecurityContext: `seLinuxOptions=1:SELinuxOptions runAsUser=2:int64? runAsNonRoot=3:bool?
    supplementalGroups=4:[]int64 fsGroup=5:int64? runAsGroup=6:int64? sysctls=7:[]Sysctl
    windowsOptions=8:WindowsSecurityContextOptions fsGroupChangePolicy=9:string?
    seccompProfile=10:SeccompProfile appArmorProfile=11:AppArmorProfile
    supplementalGroupsPolicy=12:string? seLinuxChangePolicy=13:string?`,
  Affinity: `nodeAffinity=1:NodeAffinity podAffinity=2:PodAffinity podAntiAffinity=3:PodAntiAffinity`,
  Toleration: `key=1:string operator=2:string value=3:string effect=4:string tolerationSeconds=5:int64?`,
  HostAlias: `ip=1:string hostnames=2:[]string`,
  PodDNSConfig: `nameservers=1:[]string searches=2:[]string options=3:[]PodDNSConfigOption`,
  PodReadinessGate: `conditionType=1:string`,
  TopologySpreadConstraint: `maxSkew=1:int32 topologyKey=2:string whenUnsatisfiable=3:string
    labelSelector=4:LabelSelector minDomains=5:int32? nodeAffinityPolicy=6:string?
    nodeTaintsPolicy=7:string? matchLabelKeys=8:[]string`,
  PodOS: `name=1:string`,
  PodSchedulingGate: `name=1:string`,
  PodResourceClaim: `name=1:string resourceClaimName=3:string? resourceClaimTemplateName=4:string?`,
  ResourceRequirements: `limits=1:{Quantity} requests=2:{Quantity} claims=3:[]ResourceClaim`,
  PodFailurePolicyOnExitCodesRequirement: `containerName=1:string? operator=2:string values=3:[]int32`,
  PodFailurePolicyOnPodConditionsPattern: `type=1:string status=2:string`,
  ServiceBackendPort: `name=1:string number=2:int32`,
  HTTPIngressRuleValue: `paths=1:[]HTTPIngressPath`,
  IngressPortStatus: `port=1:int32 protocol=2:string error=3:string?`,
  VolumeSource: `hostPath=1:HostPathVolumeSource emptyDir=2:EmptyDirVolumeSource
    gcePersistentDisk=3:GCEPersistentDiskVolumeSource
    awsElasticBlockStore=4:AWSElasticBlockStoreVolumeSource gitRepo=5:GitRepoVolumeSource
    secret=6:SecretVolumeSource nfs=7:NFSVolumeSource iscsi=8:ISCSIVolumeSource
    glusterfs=9:GlusterfsVolumeSource persistentVolumeClaim=10:PersistentVolumeClaimVolumeSource
    rbd=11:RBDVolumeSource flexVolume=12:FlexVolumeSource cinder=13:CinderVolumeSource
    cephfs=14:CephFSVolumeSource flocker=15:FlockerVolumeSource
    downwardAPI=16:DownwardAPIVolumeSource fc=17:FCVolumeSource
    azureFile=18:AzureFileVolumeSource configMap=19:ConfigMapVolumeSource
    vsphereVolume=20:VsphereVirtualDiskVolumeSource quobyte=21:QuobyteVolumeSource
    azureDisk=22:AzureDiskVolumeSource photonPersistentDisk=23:PhotonPersistentDiskVolumeSource
    portworxVolume=24:PortworxVolumeSource scaleIO=25:ScaleIOVolumeSource
    projected=26:ProjectedVolumeSource storageos=27:StorageOSVolumeSource csi=28:CSIVolumeSource
    ephemeral=29:EphemeralVolumeSource image=30:ImageVolumeSource`,
  ContainerPort: `name=1:string hostPort=2:int32 containerPort=3:int32 protocol=4:string hostIP=5:string`,
  EnvFromSource: `prefix=1:string configMapRef=2:ConfigMapEnvSource secretRef=3:SecretEnvSource`,
  EnvVar: `name=1:string value=2:string valueFrom=3:EnvVarSource`,
  ContainerResizePolicy: `resourceName=1:string restartPolicy=2:string`,
  VolumeMount: `name=1:string readOnly=2:bool mountPath=3:string subPath=4:string mountPropagation=5:string?
    subPathExpr=6:string recursiveReadOnly=7:string?`,
  VolumeDevice: `name=1:string devicePath=2:string`,
  Probe: `handler=1:...ProbeHandler initialDelaySeconds=2:int32 timeoutSeconds=3:int32
    periodSeconds=4:int32 successThreshold=5:int32 failureThreshold=6:int32
    terminationGracePeriodSeconds=7:int64?`,
  Lifecycle: `postStart=1:LifecycleHandler preStop=2:LifecycleHandler`,
  SecurityContext: `capabilities=1:Capabilities privileged=2:bool? seLinuxOptions=3:SELinuxOptions
    runAsUser=4:int64? runAsNonRoot=5:bool? readOnlyRootFilesystem=6:bool?
    allowPrivilegeEscalation=7:bool? runAsGroup=8:int64? procMount=9:string?
    windowsOptions=10:WindowsSecurityContextOptions seccompProfile=11:SeccompProfile
    appArmorProfile=12:AppArmorProfile`,
  EphemeralContainerCommon: `name=1:string image=2:string command=3:[]string args=4:[]string workingDir=5:string
    ports=6:[]ContainerPort env=7:[]EnvVar resources=8:ResourceRequirements
    volumeMounts=9:[]VolumeMount livenessProbe=10:Probe readinessProbe=11:Probe
    lifecycle=12:Lifecycle terminationMessagePath=13:string imagePullPolicy=14:string
    securityContext=15:SecurityContext stdin=16:bool stdinOnce=17:bool tty=18:bool
    envFrom=19:[]EnvFromSource terminationMessagePolicy=20:string
    volumeDevices=21:[]VolumeDevice startupProbe=22:Probe
    resizePolicy=23:[]ContainerResizePolicy restartPolicy=24:string?`,
  SELinuxOptions: `user=1:string role=2:string type=3:string level=4:string`,
  WindowsSecurityContextOptions: `gmsaCredentialSpecName=1:string? gmsaCredentialSpec=2:string? runAsUserName=3:string?
    hostProcess=4:bool?`,
  Sysctl: `name=1:string value=2:string`,
  SeccompProfile: `type=1:string localhostProfile=2:string?`,
  AppArmorProfile: `type=1:string localhostProfile=2:string?`,
  NodeAffinity: `requiredDuringSchedulingIgnoredDuringExecution=1:NodeSelector
    preferredDuringSchedulingIgnoredDuringExecution=2:[]PreferredSchedulingTerm`,
  PodAffinity: `requiredDuringSchedulingIgnoredDuringExecution=1:[]PodAffinityTerm
    preferredDuringSchedulingIgnoredDuringExecution=2:[]WeightedPodAffinityTerm`,
  PodAntiAffinity: `requiredDuringSchedulingIgnoredDuringExecution=1:[]PodAffinityTerm
    preferredDuringSchedulingIgnoredDuringExecution=2:[]WeightedPodAffinityTerm`,
  PodDNSConfigOption: `name=1:string value=2:string?`,
  ResourceClaim: `name=1:string request=2:string`,
  HTTPIngressPath: `path=1:string backend=2:IngressBackend pathType=3:string?`,
  HostPathVolumeSource: `path=1:string type=2:string?`,
  EmptyDirVolumeSource: `medium=1:string sizeLimit=2:Quantity`,
  GCEPersistentDiskVolumeSource: `pdName=1:string fsType=2:string partition=3:int32 readOnly=4:bool`,
  AWSElasticBlockStoreVolumeSource: `volumeID=1:string fsType=2:string partition=3:int32 readOnly=4:bool`,
  GitRepoVolumeSource: `repository=1:string revision=2:string directory=3:string`,
  SecretVolumeSource: `secretName=1:string items=2:[]KeyToPath defaultMode=3:int32? optional=4:bool?`,
  NFSVolumeSource: `server=1:string path=2:string readOnly=3:bool`,
  ISCSIVolumeSource: `targetPortal=1:string iqn=2:string lun=3:int32 iscsiInterface=4:string fsType=5:string
    readOnly=6:bool portals=7:[]string chapAuthDiscovery=8:bool
    secretRef=10:LocalObjectReference chapAuthSession=11:bool initiatorName=12:string?`,
  GlusterfsVolumeSource: `endpoints=1:string path=2:string readOnly=3:bool`,
  PersistentVolumeClaimVolumeSource: `claimName=1:string readOnly=2:bool`,
  RBDVolumeSource: `monitors=1:[]string image=2:string fsType=3:string pool=4:string user=5:string
    keyring=6:string secretRef=7:LocalObjectReference readOnly=8:bool`,
  FlexVolumeSource: `driver=1:string fsType=2:string secretRef=3:LocalObjectReference readOnly=4:bool
    options=5:{string}`,
  CinderVolumeSource: `volumeID=1:string fsType=2:string readOnly=3:bool secretRef=4:LocalObjectReference`,
  CephFSVolumeSource: `monitors=1:[]string path=2:string user=3:string secretFile=4:string
    secretRef=5:LocalObjectReference readOnly=6:bool`,
  FlockerVolumeSource: `datasetName=1:string datasetUUID=2:string`,
  DownwardAPIVolumeSource: `items=1:[]DownwardAPIVolumeFile defaultMode=2:int32?`,
  FCVolumeSource: `targetWWNs=1:[]string lun=2:int32? fsType=3:string readOnly=4:bool wwids=5:[]string`,
  AzureFileVolumeSource: `secretName=1:string shareName=2:string readOnly=3:bool`,
  ConfigMapVolumeSource: `localObjectReference=1:...LocalObjectReference items=2:[]KeyToPath defaultMode=3:int32?
    optional=4:bool?`,
  VsphereVirtualDiskVolumeSource: `volumePath=1:string fsType=2:string storagePolicyName=3:string storagePolicyID=4:string`,
  QuobyteVolumeSource: `registry=1:string volume=2:string readOnly=3:bool user=4:string group=5:string
    tenant=6:string`,
  AzureDiskVolumeSource: `diskName=1:string diskURI=2:string cachingMode=3:string? fsType=4:string? readOnly=5:bool?
    kind=6:string?`,
  PhotonPersistentDiskVolumeSource: `pdID=1:string fsType=2:string`,
  ProjectedVolumeSource: `sources=1:[]VolumeProjection defaultMode=2:int32?`,
  PortworxVolumeSource: `volumeID=1:string fsType=2:string readOnly=3:bool`,
  ScaleIOVolumeSource: `gateway=1:string system=2:string secretRef=3:LocalObjectReference sslEnabled=4:bool
    protectionDomain=5:string storagePool=6:string storageMode=7:string volumeName=8:string
    fsType=9:string readOnly=10:bool`,
  StorageOSVolumeSource: `volumeName=1:string volumeNamespace=2:string fsType=3:string readOnly=4:bool
    secretRef=5:LocalObjectReference`,
  CSIVolumeSource: `driver=1:string readOnly=2:bool? fsType=3:string? volumeAttributes=4:{string}
    nodePublishSecretRef=5:LocalObjectReference`,
  EphemeralVolumeSource: `volumeClaimTemplate=1:PersistentVolumeClaimTemplate`,
  ImageVolumeSource: `reference=1:string pullPolicy=2:string`,
  ConfigMapEnvSource: `localObjectReference=1:...LocalObjectReference optional=2:bool?`,
  SecretEnvSource: `localObjectReference=1:...LocalObjectReference optional=2:bool?`,
  EnvVarSource: `fieldRef=1:ObjectFieldSelector resourceFieldRef=2:ResourceFieldSelector
    configMapKeyRef=3:ConfigMapKeySelector secretKeyRef=4:SecretKeySelector`,
  ProbeHandler: `exec=1:ExecAction httpGet=2:HTTPGetAction tcpSocket=3:TCPSocketAction grpc=4:GRPCAction`,
  LifecycleHandler: `exec=1:ExecAction httpGet=2:HTTPGetAction tcpSocket=3:TCPSocketAction sleep=4:SleepAction`,
  Capabilities: `add=1:[]string drop=2:[]string`,
  NodeSelector: `nodeSelectorTerms=1:[]NodeSelectorTerm`,
  PreferredSchedulingTerm: `weight=1:int32 preference=2:NodeSelectorTerm`,
  PodAffinityTerm: `labelSelector=1:LabelSelector namespaces=2:[]string topologyKey=3:string
    namespaceSelector=4:LabelSelector matchLabelKeys=5:[]string mismatchLabelKeys=6:[]string`,
  WeightedPodAffinityTerm: `weight=1:int32 podAffinityTerm=2:PodAffinityTerm`,
  KeyToPath: `key=1:string path=2:string mode=3:int32?`,
  DownwardAPIVolumeFile: `path=1:string fieldRef=2:ObjectFieldSelector resourceFieldRef=3:ResourceFieldSelector
    mode=4:int32?`,
  VolumeProjection: `secret=1:SecretProjection downwardAPI=2:DownwardAPIProjection
    configMap=3:ConfigMapProjection serviceAccountToken=4:ServiceAccountTokenProjection
    clusterTrustBundle=5:ClusterTrustBundleProjection`,
  PersistentVolumeClaimTemplate: `metadata=1:ObjectMeta spec=2:PersistentVolumeClaimSpec`,
  ObjectFieldSelector: `apiVersion=1:string fieldPath=2:string`,
  ResourceFieldSelector: `containerName=1:string resource=2:string divisor=3:Quantity`,
  ConfigMapKeySelector: `localObjectReference=1:...LocalObjectReference key=2:string optional=3:bool?`,
  SecretKeySelector: `localObjectReference=1:...LocalObjectReference key=2:string optional=3:bool?`,
  ExecAction: `command=1:[]string`,
  HTTPGetAction: `path=1:string port=2:IntOrString host=3:string scheme=4:string httpHeaders=5:[]HTTPHeader`,
  TCPSocketAction: `port=1:IntOrString host=2:string`,
  GRPCAction: `port=1:int32 service=2:string?`,
  SleepAction: `seconds=1:int64`,
  NodeSelectorTerm: `matchExpressions=1:[]NodeSelectorRequirement matchFields=2:[]NodeSelectorRequirement`,
  SecretProjection: `localObjectReference=1:...LocalObjectReference items=2:[]KeyToPath optional=4:bool?`,
  DownwardAPIProjection: `items=1:[]DownwardAPIVolumeFile`,
  ConfigMapProjection: `localObjectReference=1:...LocalObjectReference items=2:[]KeyToPath optional=4:bool?`,
  ServiceAccountTokenProjection: `audience=1:string expirationSeconds=2:int64? path=3:string`,
  ClusterTrustBundleProjection: `name=1:string? signerName=2:string? labelSelector=3:LabelSelector path=4:string
    optional=5:bool?`,
  PersistentVolumeClaimSpec: `accessModes=1:[]string resources=2:VolumeResourceRequirements volumeName=3:string
    selector=4:LabelSelector storageClassName=5:string? volumeMode=6:string?
    dataSource=7:TypedLocalObjectReference dataSourceRef=8:TypedObjectReference
    volumeAttributesClassName=9:string?`,
  HTTPHeader: `name=1:string value=2:string`,
  NodeSelectorRequirement: `key=1:string operator=2:string values=3:[]string`,
  VolumeResourceRequirements: `limits=1:{Quantity} requests=2:{Quantity}`,
  TypedObjectReference: `apiGroup=1:string? kind=2:string name=3:string namespace=4:string?`,
};

/** The table, read once: message name → field number → field. */
export const MESSAGES: ReadonlyMap<string, MessageSchema> = new Map(
  Object.entries(TABLE).map(([name, text]) => [name, parseMessage(name, text)]),
);

function parseMessage(message: string, text: string): MessageSchema {
  const fields = new Map<number, FieldSchema>();
  for (const token of text.split(/\s+/).filter(Boolean)) {
    const match = /^(\w+)=(\d+):(\.\.\.)?(\[\])?(\{)?(\w+)\}?(\?)?$/.exec(token);
    if (!match) throw new Error(`protobuf schema ${message}: cannot read "${token}"`);
    const [, name, number, inline, repeated, map, type, keepZero] = match as unknown as string[];
    fields.set(Number(number), {
      name: name as string,
      number: Number(number),
      type: type as string,
      scalar: SCALARS.has(type as string),
      repeated: repeated !== undefined,
      map: map !== undefined,
      inline: inline !== undefined,
      keepZero: keepZero !== undefined,
    });
  }
  return fields;
}
