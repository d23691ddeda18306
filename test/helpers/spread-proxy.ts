/**
 * A TCP proxy on a free loopback port that hands each new connection to the next of several
 * backends in turn: the clients of one test spread over every node of a cluster, as behind a
 * round-robin load balancer.
 */
import net from 'node:net';

export interface SpreadProxy {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `header`, if given, is written to the backend before anything the client sends: a PROXY
 * protocol header, as HAProxy's `send-proxy`/`send-proxy-v2` writes it.
 */
export async function spreadProxy(backends: readonly number[], header?: (client: net.Socket) => Uint8Array): Promise<SpreadProxy> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const port = backends[next++ % backends.length]!;
    const upstream = net.connect({ host: '127.0.0.1', port });
    if (header) upstream.write(header(client)); // queued before the client's bytes
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
