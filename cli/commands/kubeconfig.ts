import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { Command } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';

/** A kubeconfig's one cluster, user and context name for a server: its host and port. */
export function kubeconfigName(server: string): string {
  const url = new URL(server);
  return `berth-${url.hostname}${url.port ? `-${url.port}` : ''}`.replace(/[^A-Za-z0-9.-]/g, '-');
}

/** A kubeconfig that points kubectl at Berth's Kubernetes API with a Berth token. */
export function kubeconfig(args: {
  server: string;
  token: string;
  namespace: string;
  name?: string;
  /** PEM of the CA that signed the server's certificate, when it is not a public one. */
  certificateAuthority?: string;
}): string {
  const name = args.name ?? kubeconfigName(args.server);
  const ca = args.certificateAuthority;
  const cluster = {
    server: args.server,
    ...(ca ? { 'certificate-authority-data': Buffer.from(ca).toString('base64') } : {}),
  };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name, user: { token: args.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: args.namespace } }],
    'current-context': name,
  });
}

export const kubeconfigCommand: Command = {
  name: 'kubeconfig',
  summary: 'Print a kubeconfig for kubectl: this server, this token, this namespace',
  usage: 'berth kubeconfig [--name NAME] > ~/.kube/berth.yaml',
  help: [
    'kubectl then reads Berth with KUBECONFIG=~/.kube/berth.yaml kubectl get deploy.',
    'The kubeconfig holds the token itself: keep the file private (chmod 600).',
    'kubectl sends a token only over TLS: give it the https URL Berth is served at.',
    '--name                   the cluster, user and context name (default: berth-HOST-PORT)',
    '--certificate-authority  a PEM file of the CA that signed the server certificate (kept in the kubeconfig)',
  ].join('\n'),
  flags: ['name', 'certificate-authority'],
  async run(ctx) {
    ctx.noMoreArgs(0);
    const { server, token, namespace } = await ctx.connection();
    if (!token) throw new CliError('no token: use --token, BERTH_TOKEN or berth login first', EXIT.USAGE);
    const caFile = ctx.flags['certificate-authority'];
    const certificateAuthority = caFile
      ? await readFile(caFile, 'utf8').catch((e: Error) => {
          throw new CliError(`cannot read the certificate authority ${caFile}: ${e.message}`, EXIT.USAGE);
        })
      : undefined;
    // client-go attaches credentials to TLS connections only: over http:// kubectl would send
    // no token at all and every request would come back 401.
    if (new URL(server).protocol === 'http:')
      ctx.err('warning: kubectl sends no token over plain http://; use the https:// URL Berth is served at');
    ctx.io.stdout.write(
      kubeconfig({
        server,
        token,
        namespace,
        ...(ctx.flags.name ? { name: ctx.flags.name } : {}),
        ...(certificateAuthority ? { certificateAuthority } : {}),
      }),
    );
    return EXIT.OK;
  },
};
