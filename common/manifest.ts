import { isCollection, isDocument, LineCounter, parseAllDocuments, type ScalarTag, visit } from 'yaml';
import type { z } from 'zod';
import { ConfigMapInput, type ConfigMapSpec } from './config-map.ts';
import { CronJobInput, type CronJobSpec } from './cron-job.ts';
import { DeploymentInput, type DeploymentSpec } from './deployment.ts';
import { IngressInput, type IngressSpec } from './ingress.ts';
import { jsonPath } from './issue-path.ts';
import { JobInput, type JobSpec } from './job.ts';
import {
  kubernetesCronJob,
  kubernetesDeployment,
  kubernetesJob,
  kubernetesService,
  stripRoot,
  unsupportedFieldMessage,
} from './manifest-kubernetes.ts';
import {
  kubernetesConfigMap,
  kubernetesSecret,
  kubernetesServiceAccount,
} from './manifest-kubernetes-config.ts';
import { refusedKindReason, type SkippedObject, skippedKind } from './manifest-machinery.ts';
import type { Labels } from './names.ts';
import {
  claimSpecOf,
  PersistentVolumeClaimInput,
  type PersistentVolumeClaimSpec,
} from './persistent-volume-claim.ts';
import { NamespacePolicyInput, type NamespacePolicySpec } from './policy.ts';
import type { FieldError } from './problem.ts';
import { SecretInput, type SecretType } from './secret.ts';
import { ServiceInput, type ServiceSpec } from './service.ts';
import { ServiceAccountInput, type ServiceAccountSpec } from './service-account.ts';
import { TrustRuleInput, type TrustRuleSpec } from './trust-rule.ts';

/**
 * The body of `POST /v1/apply`: YAML (multi-document) or JSON (object or array), in the berth.dev/v1
 * form or the Kubernetes form (apps/v1 Deployment, v1 Service). Parsing is split in two so the
 * server can answer 400 for text that is not YAML/JSON and 422 (with a path per problem) for
 * documents that are well-formed but not valid.
 */

export const MAX_DOCUMENTS = 100;
/** Aliases beyond this are refused: alias expansion is the classic YAML resource-exhaustion attack. */
export const MAX_ALIASES = 50;

export class ManifestSyntaxError extends Error {
  /** 0-based index of the document, counting every document in the text (empty ones too). */
  document?: number;
  /** 1-based line in the text. */
  line?: number;
  constructor(message: string, where: { document?: number; line?: number } = {}) {
    super(message);
    this.name = 'ManifestSyntaxError';
    this.document = where.document;
    this.line = where.line;
  }
}

export type ManifestObject =
  | {
      kind: 'Deployment';
      namespace?: string;
      name: string;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: DeploymentSpec;
      /** Fields accepted without effect: the apply's warnings. */
      warnings?: string[];
      /**
       * Whether Kubernetes would mount an API token into its pods (apps/v1 only): `pod` (the pod
       * says so), `account` (its ServiceAccount decides), absent (the pod says no).
       */
      serviceAccountToken?: 'pod' | 'account';
    }
  | {
      kind: 'Job';
      namespace?: string;
      name: string;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: JobSpec;
      /** As a Deployment's: whether Kubernetes would mount an API token into its pods. */
      serviceAccountToken?: 'pod' | 'account';
    }
  | {
      kind: 'CronJob';
      namespace?: string;
      name: string;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: CronJobSpec;
    }
  | SkippedObject
  | {
      kind: 'Service';
      namespace?: string;
      name: string;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: ServiceSpec;
    }
  | {
      kind: 'Secret';
      namespace?: string;
      name: string;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      type: SecretType;
      data: Record<string, string>;
    }
  | {
      kind: 'ConfigMap';
      namespace?: string;
      name: string;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: ConfigMapSpec;
    }
  | {
      kind: 'PersistentVolumeClaim';
      namespace?: string;
      name: string;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: PersistentVolumeClaimSpec;
    }
  | {
      kind: 'ServiceAccount';
      namespace?: string;
      name: string;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: ServiceAccountSpec;
    }
  | {
      kind: 'Ingress';
      namespace?: string;
      name: string;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: IngressSpec;
    }
  | {
      kind: 'NamespacePolicy';
      /** A policy is named after the namespace it governs. */
      name: string;
      namespace?: undefined;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: NamespacePolicySpec;
    }
  | {
      kind: 'TrustRule';
      /** Cluster-scoped. */
      name: string;
      namespace?: undefined;
      labels: Labels;
      annotations: Labels;
      resourceVersion?: string;
      spec: TrustRuleSpec;
    };

/** One problem in one document; `document` indexes the array given to normalizeManifests. */
export interface ManifestIssue {
  document: number;
  path: string;
  message: string;
}

// Only the YAML 1.2 core tags: anything else (!!js/function, !!binary, !custom) would either run
// through a constructor or mean something Berth would silently reinterpret.
const ALLOWED_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`),
);

/** Text → plain documents (empty ones dropped). Throws ManifestSyntaxError for anything malformed. */
export function parseManifestText(text: string, format: 'yaml' | 'json'): unknown[] {
  const docs = format === 'json' ? parseJson(text) : parseYaml(text);
  if (docs.length === 0) throw new ManifestSyntaxError('the manifest holds no documents');
  if (docs.length > MAX_DOCUMENTS) {
    throw new ManifestSyntaxError(`too many documents: ${docs.length} (at most ${MAX_DOCUMENTS})`);
  }
  return docs;
}

function parseJson(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ManifestSyntaxError(`invalid JSON: ${message}`, { line: jsonErrorLine(text, message) });
  }
  const docs = Array.isArray(value) ? value : [value];
  return docs.filter((d) => d !== null);
}

/** V8 reports either "(line 3 column 5)" or "at position 42" depending on the Node version. */
function jsonErrorLine(text: string, message: string): number | undefined {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  if (!position) return undefined;
  return text.slice(0, Number(position[1])).split('\n').length;
}

/** `0644` as YAML 1.1 (kubectl) reads it: octal, 420. YAML 1.2 would read 644. */
const YAML11_OCTAL: ScalarTag = {
  identify: () => false,
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^0[0-7]+$/,
  resolve: (text: string) => Number.parseInt(text, 8),
};

function parseYaml(text: string): unknown[] {
  const lineCounter = new LineCounter();
  let parsed: ReturnType<typeof parseAllDocuments>;
  try {
    parsed = parseAllDocuments(text, {
      version: '1.2',
      schema: 'core',
      // Merge keys (`<<: *defaults`), as kubectl reads them (YAML 1.1); their aliases count
      // towards MAX_ALIASES like any other.
      merge: true,
      // File modes as kubectl reads them (YAML 1.1): defaultMode: 0644 is octal.
      customTags: (tags) => [YAML11_OCTAL, ...(Array.isArray(tags) ? tags : [])],
      uniqueKeys: true,
      strict: true,
      prettyErrors: true,
      lineCounter,
    });
  } catch (err) {
    throw new ManifestSyntaxError(`invalid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Array.isArray(parsed)) return [];
  if (parsed.length > MAX_DOCUMENTS * 2) {
    throw new ManifestSyntaxError(`too many documents: ${parsed.length} (at most ${MAX_DOCUMENTS})`);
  }
  const docs: unknown[] = [];
  parsed.forEach((doc, index) => {
    if (!isDocument(doc)) return;
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) {
      throw new ManifestSyntaxError(`invalid YAML: ${firstLine(problem.message)}`, {
        document: index,
        line: problem.linePos?.[0].line,
      });
    }
    const lineOf = (node: { range?: [number, number, number] | null }) =>
      node.range ? lineCounter.linePos(node.range[0]).line : undefined;
    visit(doc, {
      Node(_, node) {
        if (node.tag && !ALLOWED_TAGS.has(node.tag)) {
          throw new ManifestSyntaxError(`invalid YAML: tag ${node.tag} is not allowed`, {
            document: index,
            line: lineOf(node),
          });
        }
      },
      Pair(_, pair) {
        if (isCollection(pair.key)) {
          throw new ManifestSyntaxError('invalid YAML: a mapping key must be a plain value', {
            document: index,
            line: lineOf(pair.key),
          });
        }
      },
    });
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      throw new ManifestSyntaxError(
        `invalid YAML: ${err instanceof ReferenceError ? `more than ${MAX_ALIASES} aliases` : String(err)}`,
        { document: index },
      );
    }
    if (value !== null && value !== undefined) docs.push(value);
  });
  return docs;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

// ---------------------------------------------------------------------------------------------
// Paths and zod issues

/** zod path → "spec.template.spec.containers[0].image"; keys that are not identifiers get ["..."]. */
export const issuePath: (path: readonly PropertyKey[]) => string = jsonPath;

type Issue = z.core.$ZodIssue;

/**
 * zod error → one `{path, message}` per problem, for problem+json `errors[]`. Unknown keys become
 * one entry each (path ends with the key); Kubernetes fields Berth lacks say so by name.
 */
export function zodFieldErrors(
  error: { issues: readonly Issue[] },
  prefix: readonly PropertyKey[] = [],
  input?: unknown,
): FieldError[] {
  const unsupported = input === undefined ? [] : whollyUnknownObjects(error.issues, input);
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    // An object made only of unknown fields (valueFrom: {configMapKeyRef}) also misses its required
    // ones; saying so would only bury the real problem.
    if (issue.code !== 'unrecognized_keys' && unsupported.some((p) => startsWith(issue.path, p))) continue;
    collectIssue(issue, [...prefix, ...issue.path], out);
  }
  return out;
}

/** Paths (in `input`) of objects whose every key was reported as unrecognized. */
function whollyUnknownObjects(issues: readonly Issue[], input: unknown): PropertyKey[][] {
  const paths: PropertyKey[][] = [];
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    let node: unknown = input;
    for (const segment of issue.path) {
      node =
        typeof node === 'object' && node !== null
          ? (node as Record<PropertyKey, unknown>)[segment]
          : undefined;
    }
    if (isPlainObject(node) && Object.keys(node).every((k) => issue.keys.includes(k))) paths.push(issue.path);
  }
  return paths;
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}

function collectIssue(issue: Issue, path: PropertyKey[], out: FieldError[]): void {
  switch (issue.code) {
    case 'unrecognized_keys':
      for (const key of issue.keys) {
        out.push({ path: issuePath([...path, key]), message: unsupportedFieldMessage(path, key) });
      }
      return;
    case 'invalid_type':
      out.push({
        path: issuePath(path),
        message: / received undefined$/.test(issue.message) ? 'is required' : issue.message,
      });
      return;
    case 'invalid_union': {
      // A value of the right type that fails its branch explains itself better than "Invalid input".
      const branch = issue.errors.find(
        (branchIssues) => branchIssues.length > 0 && !branchIssues.every((i) => i.code === 'invalid_type'),
      );
      if (branch) {
        for (const inner of branch) collectIssue(inner, [...path, ...inner.path], out);
        return;
      }
      const expected = issue.errors.flatMap((b) =>
        b.map((i) => (i.code === 'invalid_type' ? i.expected : [])),
      );
      out.push({
        path: issuePath(path),
        message: expected.length ? `must be a ${[...new Set(expected)].join(' or a ')}` : issue.message,
      });
      return;
    }
    case 'invalid_key':
      for (const inner of issue.issues) out.push({ path: issuePath(path), message: `key: ${inner.message}` });
      return;
    default:
      out.push({ path: issuePath(path), message: issue.message });
  }
}

// ---------------------------------------------------------------------------------------------
// Documents → typed objects

type PlainObject = Record<string, unknown>;
const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const KINDS = [
  'Deployment',
  'Job',
  'CronJob',
  'Service',
  'Secret',
  'ConfigMap',
  'PersistentVolumeClaim',
  'ServiceAccount',
  'Ingress',
  'NamespacePolicy',
  'TrustRule',
] as const;

/**
 * Validates each document and turns it into the object the server applies. A document with any
 * issue yields no object; the caller rejects the whole request when `issues` is not empty.
 */
export function normalizeManifests(
  docs: unknown[],
  options: {
    /** The namespace the request names (`?namespace=`): a document naming another is refused, as kubectl does. */
    namespace?: string;
  } = {},
): { objects: ManifestObject[]; issues: ManifestIssue[] } {
  const objects: ManifestObject[] = [];
  const issues: ManifestIssue[] = [];
  const seen = new Map<string, string>();
  docs.forEach((doc, document) => {
    const found: Found[] = [];
    normalizeDocument(doc, [], (path, message) => issues.push({ document, path, message }), found);
    for (const { object, at } of found) {
      if (
        options.namespace !== undefined &&
        object.namespace !== undefined &&
        object.namespace !== options.namespace
      ) {
        issues.push({
          document,
          path: issuePath([...at, 'metadata', 'namespace']),
          message: `the namespace of the object ("${object.namespace}") does not match the namespace of the request ("${options.namespace}"): remove it, or apply with namespace ${object.namespace}`,
        });
        continue;
      }
      const key = `${object.kind}/${object.namespace ?? ''}/${object.name}`;
      const first = seen.get(key);
      if (first !== undefined) {
        issues.push({
          document,
          path: issuePath([...at, 'metadata', 'name']),
          message: `${object.kind} "${object.name}" appears more than once (first in ${first})`,
        });
        continue;
      }
      seen.set(key, `document ${document + 1}${at.length ? ` at ${issuePath(at)}` : ''}`);
      objects.push(object);
    }
  });
  if (objects.length > MAX_DOCUMENTS) {
    issues.push({
      document: 0,
      path: '',
      message: `too many objects: ${objects.length} (at most ${MAX_DOCUMENTS})`,
    });
  }
  return { objects, issues };
}

type Found = { object: ManifestObject; at: PropertyKey[] };
type Report = (path: string, message: string) => void;

/** Joins a document's position (inside a List) with a path relative to that document. */
function joinPath(at: readonly PropertyKey[], relative: string): string {
  const prefix = issuePath(at);
  if (!prefix || !relative) return prefix || relative;
  return relative.startsWith('[') ? prefix + relative : `${prefix}.${relative}`;
}

function normalizeDocument(doc: unknown, at: PropertyKey[], report: Report, found: Found[]): void {
  const reportAt = (path: PropertyKey[], message: string) => report(issuePath([...at, ...path]), message);
  const reportAll = (errors: FieldError[]) => {
    for (const e of errors) report(joinPath(at, e.path), e.message);
  };
  if (!isPlainObject(doc)) {
    reportAt([], 'must be an object with apiVersion, kind and metadata');
    return;
  }
  const { apiVersion, kind } = doc;
  if (typeof kind !== 'string' || !kind) {
    reportAt(['kind'], `is required (${KINDS.join(', ')})`);
    return;
  }
  if (typeof apiVersion !== 'string' || !apiVersion) {
    reportAt(['apiVersion'], 'is required (berth.dev/v1; or apps/v1 for a Deployment, v1 for a Service)');
    return;
  }
  const named = <M extends { name?: string }>(meta: M): meta is M & { name: string } => {
    if (meta.name) return true;
    reportAt(['metadata', 'name'], 'is required');
    return false;
  };

  switch (`${apiVersion} ${kind}`) {
    case 'berth.dev/v1 Deployment':
    case 'apps/v1 Deployment': {
      const input = apiVersion === 'apps/v1' ? kubernetesDeployment(doc) : { value: doc, errors: [] };
      reportAll(input.errors);
      const parsed = DeploymentInput.safeParse(input.value);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], input.value));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta) || input.errors.length) return;
      const { name, namespace, labels = {}, annotations = {}, resourceVersion } = meta;
      found.push({
        at,
        object: {
          kind: 'Deployment',
          name,
          namespace,
          labels,
          annotations,
          resourceVersion,
          spec: parsed.data.spec,
          ...('warnings' in input && input.warnings?.length ? { warnings: input.warnings } : {}),
          ...('serviceAccountToken' in input && input.serviceAccountToken
            ? { serviceAccountToken: input.serviceAccountToken }
            : {}),
        },
      });
      return;
    }
    case 'berth.dev/v1 Job':
    case 'batch/v1 Job': {
      const input = apiVersion === 'batch/v1' ? kubernetesJob(doc) : { value: doc, errors: [] };
      reportAll(input.errors);
      const parsed = JobInput.safeParse(input.value);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], input.value));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta) || input.errors.length) return;
      const { name, namespace, labels = {}, annotations = {}, resourceVersion } = meta;
      found.push({
        at,
        object: {
          kind: 'Job',
          name,
          namespace,
          labels,
          annotations,
          resourceVersion,
          spec: parsed.data.spec,
          ...('serviceAccountToken' in input && input.serviceAccountToken
            ? { serviceAccountToken: input.serviceAccountToken }
            : {}),
        },
      });
      return;
    }
    case 'berth.dev/v1 CronJob':
    case 'batch/v1 CronJob': {
      const input = apiVersion === 'batch/v1' ? kubernetesCronJob(doc) : { value: doc, errors: [] };
      reportAll(input.errors);
      const parsed = CronJobInput.safeParse(input.value);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], input.value));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta) || input.errors.length) return;
      const { name, namespace, labels = {}, annotations = {}, resourceVersion } = meta;
      found.push({
        at,
        object: {
          kind: 'CronJob',
          name,
          namespace,
          labels,
          annotations,
          resourceVersion,
          spec: parsed.data.spec,
        },
      });
      return;
    }
    case 'berth.dev/v1 Service':
    case 'v1 Service': {
      const input =
        apiVersion === 'v1' ? kubernetesService(doc) : { value: doc, errors: [], remap: undefined };
      reportAll(input.errors);
      const parsed = ServiceInput.safeParse(input.value);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], input.value).map(input.remap ?? ((e) => e)));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta) || input.errors.length) return;
      const { name, namespace, labels = {}, annotations = {}, resourceVersion } = meta;
      found.push({
        at,
        object: {
          kind: 'Service',
          name,
          namespace,
          labels,
          annotations,
          resourceVersion,
          spec: parsed.data.spec,
        },
      });
      return;
    }
    case 'berth.dev/v1 Secret':
    case 'v1 Secret': {
      const input = apiVersion === 'v1' ? kubernetesSecret(doc) : { value: doc, errors: [] };
      reportAll(input.errors);
      const parsed = SecretInput.safeParse(input.value);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], input.value));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta) || input.errors.length) return;
      const { name, namespace, labels = {}, annotations = {}, resourceVersion } = meta;
      found.push({
        at,
        object: {
          kind: 'Secret',
          name,
          namespace,
          labels,
          annotations,
          resourceVersion,
          type: parsed.data.type,
          data: parsed.data.data,
        },
      });
      return;
    }
    case 'berth.dev/v1 PersistentVolumeClaim':
    case 'v1 PersistentVolumeClaim': {
      const value = apiVersion === 'v1' ? stripRoot(doc) : doc;
      const parsed = PersistentVolumeClaimInput.safeParse(value);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], value));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta)) return;
      const { name, namespace, labels = {}, annotations = {}, resourceVersion } = meta;
      found.push({
        at,
        object: {
          kind: 'PersistentVolumeClaim',
          name,
          namespace,
          labels,
          annotations,
          resourceVersion,
          spec: claimSpecOf(parsed.data.spec),
        },
      });
      return;
    }
    case 'berth.dev/v1 ConfigMap':
    case 'v1 ConfigMap': {
      const value = apiVersion === 'v1' ? kubernetesConfigMap(doc) : doc;
      const parsed = ConfigMapInput.safeParse(value);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], value));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta)) return;
      const { name, namespace, labels = {}, annotations = {}, resourceVersion } = meta;
      const { data, binaryData, immutable = false } = parsed.data;
      found.push({
        at,
        object: {
          kind: 'ConfigMap',
          name,
          namespace,
          labels,
          annotations,
          resourceVersion,
          spec: { data, binaryData, immutable },
        },
      });
      return;
    }
    case 'berth.dev/v1 ServiceAccount':
    case 'v1 ServiceAccount': {
      const input = apiVersion === 'v1' ? kubernetesServiceAccount(doc) : { value: doc, errors: [] };
      reportAll(input.errors);
      const parsed = ServiceAccountInput.safeParse(input.value);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], input.value));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta) || input.errors.length) return;
      const { name, namespace, labels = {}, annotations = {}, resourceVersion } = meta;
      const automount = parsed.data.automountServiceAccountToken;
      found.push({
        at,
        object: {
          kind: 'ServiceAccount',
          name,
          namespace,
          labels,
          annotations,
          resourceVersion,
          spec: automount === undefined ? {} : { automountServiceAccountToken: automount },
        },
      });
      return;
    }
    case 'berth.dev/v1 Ingress':
    case 'networking.k8s.io/v1 Ingress': {
      const value = apiVersion === 'berth.dev/v1' ? doc : stripRoot(doc);
      const parsed = IngressInput.safeParse(value);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], value));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta)) return;
      const { name, namespace, labels = {}, annotations = {}, resourceVersion } = meta;
      found.push({
        at,
        object: {
          kind: 'Ingress',
          name,
          namespace,
          labels,
          annotations,
          resourceVersion,
          spec: parsed.data.spec,
        },
      });
      return;
    }
    case 'berth.dev/v1 NamespacePolicy': {
      const parsed = NamespacePolicyInput.safeParse(doc);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], doc));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta)) return;
      if (meta.namespace !== undefined && meta.namespace !== meta.name) {
        reportAt(
          ['metadata', 'namespace'],
          `must be the policy's name ("${meta.name}"): a policy is named after its namespace`,
        );
        return;
      }
      const { name, labels = {}, annotations = {}, resourceVersion } = meta;
      found.push({
        at,
        object: {
          kind: 'NamespacePolicy',
          name,
          labels,
          annotations,
          resourceVersion,
          spec: parsed.data.spec,
        },
      });
      return;
    }
    case 'berth.dev/v1 TrustRule': {
      const parsed = TrustRuleInput.safeParse(doc);
      if (!parsed.success) {
        reportAll(zodFieldErrors(parsed.error, [], doc));
        return;
      }
      const meta = parsed.data.metadata;
      if (!named(meta)) return;
      if (meta.namespace !== undefined) {
        reportAt(['metadata', 'namespace'], 'a trust rule is cluster-scoped: remove the namespace');
        return;
      }
      const { name, labels = {}, annotations = {}, resourceVersion } = meta;
      found.push({
        at,
        object: { kind: 'TrustRule', name, labels, annotations, resourceVersion, spec: parsed.data.spec },
      });
      return;
    }
    case 'v1 List':
      // What `kubectl get deployments -o yaml` prints: each item is applied as if it were a document.
      if (!Array.isArray(doc.items)) {
        reportAt(['items'], 'must be a list of objects');
        return;
      }
      doc.items.forEach((item, i) => {
        normalizeDocument(item, [...at, 'items', i], report, found);
      });
      return;
    default: {
      const skipped = skippedKind(apiVersion, kind, doc);
      if (skipped) {
        reportAll(skipped.errors);
        if (skipped.object) found.push({ at, object: skipped.object });
        return;
      }
      const hints: Record<string, string> = {
        Deployment: 'berth.dev/v1 or apps/v1',
        Service: 'berth.dev/v1 or v1',
        Secret: 'berth.dev/v1 or v1',
        ConfigMap: 'berth.dev/v1 or v1',
        PersistentVolumeClaim: 'berth.dev/v1 or v1',
        ServiceAccount: 'berth.dev/v1 or v1',
        Ingress: 'berth.dev/v1 or networking.k8s.io/v1',
        NamespacePolicy: 'berth.dev/v1',
        TrustRule: 'berth.dev/v1',
      };
      const hint = hints[kind];
      if (hint) reportAt(['apiVersion'], `${apiVersion} is not supported for kind ${kind} (use ${hint})`);
      else {
        const reason = refusedKindReason(kind);
        reportAt(['kind'], `kind ${kind} is not supported by Berth (${reason ?? `${KINDS.join(', ')} are`})`);
      }
      return;
    }
  }
}
