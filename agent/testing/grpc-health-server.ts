import { constants, createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  decodeHealthCheckRequest,
  encodeHealthCheckResponse,
  grpcFrame,
  HEALTH_CHECK_PATH,
  readGrpcFrame,
} from '../grpc-health.ts';

/**
 * A gRPC health server over HTTP/2 cleartext for tests, written with node:http2 as a real one
 * answers: `statuses` maps a service name to its ServingStatus (1 SERVING, 2 NOT_SERVING); a
 * service it does not know is NotFound (grpc-status 5), another method Unimplemented (12), and
 * `silent` makes it take calls and never answer.
 */
export class GrpcHealthServer {
  readonly statuses = new Map<string, number>([['', 1]]);
  silent = false;
  /** The services asked about, in order. */
  readonly asked: string[] = [];

  private constructor(private readonly server: Http2Server) {}

  static async start(host = '127.0.0.1'): Promise<GrpcHealthServer> {
    const server = createServer();
    const s = new GrpcHealthServer(server);
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (s.silent) return;
        if (headers[constants.HTTP2_HEADER_PATH] !== HEALTH_CHECK_PATH) {
          stream.respond(
            { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
            { endStream: true },
          );
          return;
        }
        const service = decodeHealthCheckRequest(readGrpcFrame(Buffer.concat(chunks)) ?? Buffer.alloc(0));
        s.asked.push(service);
        const status = s.statuses.get(service);
        if (status === undefined) {
          stream.respond(
            {
              ':status': 200,
              'content-type': 'application/grpc',
              'grpc-status': '5',
              'grpc-message': 'unknown service',
            },
            { endStream: true },
          );
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(grpcFrame(encodeHealthCheckResponse(status)));
      });
      stream.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return s;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
