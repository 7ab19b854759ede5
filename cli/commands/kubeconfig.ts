import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { kubeconfigObject } from '../../common/kubeconfig.ts';
import type { Command } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';

/** A kubeconfig that points kubectl at Berth's Kubernetes API with a Berth token, as YAML. */
export function kubeconfig(args: Parameters<typeof kubeconfigObject>[0]): string {
  return stringify(kubeconfigObject(args));
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
