import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { objectRef } from '../args.ts';
import type { Command } from '../command.ts';
import { CliError, EXIT, UsageError } from '../exit-codes.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

/**
 * Forwards local HTTP to the control plane's ingress with the Host header set to the service's
 * first host: what a browser would send once DNS points at Berth. The CLI's token is never sent:
 * this is the service's traffic, not an API call.
 */
export function forwardRequest(server: URL, host: string) {
  const send = server.protocol === 'https:' ? httpsRequest : httpRequest;
  return (req: IncomingMessage, res: ServerResponse) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers.host = host;
    const upstream = send(
      {
        protocol: server.protocol,
        hostname: server.hostname,
        port: server.port || undefined,
        method: req.method,
        path: req.url,
        headers,
        servername: server.hostname,
      },
      (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(answer.headers))
          if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`berth port-forward: ${err.message}\n`);
    });
    req.pipe(upstream);
  };
}

export const portForward: Command = {
  name: 'port-forward',
  summary: "Serve a service's traffic on a local port (through the control plane's ingress)",
  usage: 'berth port-forward service/NAME LOCAL_PORT [--address 127.0.0.1]',
  flags: ['address'],
  async run(ctx) {
    const { name, rest } = objectRef(ctx.args, ['service']);
    const portText = rest[0];
    if (portText === undefined || !/^\d+$/.test(portText) || Number(portText) > 65535) {
      throw new UsageError('missing or invalid LOCAL_PORT');
    }
    if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
    const client = await ctx.client();
    const service = await client.getService(await ctx.namespace(), name);
    const host = service.spec?.hosts?.[0];
    if (!host)
      throw new CliError(`service/${name} has no hosts: the ingress cannot route to it`, EXIT.FAILURE);
    // A wildcard host needs some name under it; "port-forward" is as good as any.
    const hostHeader = host.startsWith('*.') ? `port-forward.${host.slice(2)}` : host;
    const address = ctx.flags.address ?? '127.0.0.1';
    const server = createServer(forwardRequest(new URL(client.server), hostHeader));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new CliError(`cannot listen on ${address}:${portText}: ${err.message}`)),
      );
      server.listen(Number(portText), address, resolve);
    });
    const { port } = server.address() as AddressInfo;
    ctx.out(
      `Forwarding from http://${address}:${port} -> service/${name} (Host: ${hostHeader}) via ${client.server}`,
    );
    await ctx.io.interrupted;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return EXIT.OK;
  },
};
