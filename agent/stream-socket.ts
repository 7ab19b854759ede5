import type { WebSocket } from 'ws';
import { EXEC_PROTOCOL } from '../common/exec-stream.ts';
import type { TlsCheck } from './http-fetch.ts';
import { errorMessage, type Logger } from './log.ts';

export interface StreamSocketDeps {
  /** The control plane's base URL (http or https). */
  server: string;
  token: () => string;
  tls?: TlsCheck | undefined;
  log: Logger;
}

/**
 * The agent's socket for one stream session (an exec, or a port-forward's connection): it dials
 * out to `/v1/agent/exec/{id}` with its own credential, since nodes take no connection. Listen
 * for messages before `opened` resolves: the control plane may send kubectl's first bytes at once.
 */
export async function streamSocket(id: string, d: StreamSocketDeps): Promise<WebSocket> {
  const { WebSocket: Socket } = await import('ws');
  const url = `${d.server.replace(/^http/, 'ws')}/v1/agent/exec/${encodeURIComponent(id)}`;
  const tls = d.tls?.ca ? { ca: [...(await import('node:tls')).rootCertificates, d.tls.ca] } : undefined;
  const ws = new Socket(url, [EXEC_PROTOCOL], {
    headers: { authorization: `Bearer ${d.token()}` },
    handshakeTimeout: 10_000,
    ...tls,
    ...(d.tls?.servername ? { servername: d.tls.servername } : {}),
  });
  // Listened to for the socket's whole life: an unheard 'error' would end the agent.
  ws.on('error', (e) => d.log.debug('stream socket error', { session: id, error: errorMessage(e) }));
  return ws;
}

/** Resolves once the control plane took the socket; rejects with why it did not. */
export function opened(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('closed before it opened')));
    ws.once('unexpected-response', (_q, res) =>
      reject(new Error(`the control plane answered ${res.statusCode}`)),
    );
  });
}
