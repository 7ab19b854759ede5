// Runs inside a container's network namespace (nsenter --net), so it connects as a replica does,
// to the replica directly and through the service's address, alternating so both see the same
// machine. Prints JSON of latencies in ms.
//   new <direct host:port> <service host:port> <n>: `GET /` over a new TCP connection each time
//     (busybox httpd closes after every answer)
//   open <direct host:port> <service host:port> <n>: one connection each, kept open, n round
//     trips of a short line through an echo server (what connection pools, gRPC and Redis do)
import { connect } from 'node:net';

const [mode, direct, service, count] = process.argv.slice(2);
const n = Number(count ?? 2000);
const split = (target) => {
  const i = target.lastIndexOf(':');
  return { host: target.slice(0, i), port: Number(target.slice(i + 1)) };
};

function fresh(target) {
  const { host, port } = split(target);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const socket = connect({ host, port });
    let bytes = 0;
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
    socket.on('data', (b) => {
      bytes += b.length;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (bytes === 0) return reject(new Error(`no answer from ${target}`));
      resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  });
}

/** One open connection; `ask()` sends a line and resolves with the time until its echo came back. */
function opened(target) {
  const { host, port } = split(target);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    let waiting;
    socket.on('data', () => waiting?.());
    socket.on('error', reject);
    socket.on('connect', () =>
      resolve({
        ask: () =>
          new Promise((done) => {
            const t0 = process.hrtime.bigint();
            waiting = () => {
              waiting = undefined;
              done(Number(process.hrtime.bigint() - t0) / 1e6);
            };
            socket.write('ping\n');
          }),
        close: () => socket.destroy(),
      }),
    );
  });
}

const out = { direct: [], service: [] };
if (mode === 'open') {
  const d = await opened(direct);
  const s = await opened(service);
  for (let i = 0; i < 200; i++) {
    await d.ask();
    await s.ask();
  }
  for (let i = 0; i < n; i++) {
    out.direct.push(await d.ask());
    out.service.push(await s.ask());
  }
  d.close();
  s.close();
} else {
  for (let i = 0; i < 200; i++) {
    await fresh(direct);
    await fresh(service);
  }
  for (let i = 0; i < n; i++) {
    out.direct.push(await fresh(direct));
    out.service.push(await fresh(service));
  }
}
process.stdout.write(JSON.stringify(out));
