/**
 * A kubeconfig pointing kubectl at Berth's Kubernetes API with a Berth token: one cluster, user
 * and context, the namespace as the context's default. The CLI prints it as YAML
 * (`berth kubeconfig`), the dashboard offers it as JSON (kubectl reads both).
 *
 * Self-contained (no imports, btoa rather than Buffer): the dashboard's browser script is
 * assembled from this function's own text (workers/ui/script.ts).
 */
export function kubeconfigObject(args: {
  server: string;
  token: string;
  namespace: string;
  /** The cluster, user and context name; default `berth-HOST[-PORT]`. */
  name?: string;
  /** PEM of the CA that signed the server's certificate, when it is not a public one. */
  certificateAuthority?: string;
}): Record<string, unknown> {
  const url = new URL(args.server);
  const name =
    args.name ?? `berth-${url.hostname}${url.port ? `-${url.port}` : ''}`.replace(/[^A-Za-z0-9.-]/g, '-');
  const ca = args.certificateAuthority;
  const cluster = {
    server: args.server,
    ...(ca ? { 'certificate-authority-data': btoa(ca) } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name, user: { token: args.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: args.namespace } }],
    'current-context': name,
  };
}
