/**
 * A TCP tunnel on a free loopback port that writes a PROXY protocol header to the backend before
 * piping the client's bytes, as HAProxy's `send-proxy`/`send-proxy-v2` does: real clients
 * (Autobahn|JS, ws, RawSocket) connect to it unchanged. The header is made per connection.
 */
import net from 'node:net';

export interface ProxyTunnel {
  readonly port: number;
  close(): Promise<void>;
}

export async function proxyTunnel(backendPort: number, header: (client: net.Socket) => Uint8Array): Promise<ProxyTunnel> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: backendPort });
    upstream.write(header(client)); // queued before anything the client sends
    for (const s of [client, upstream]) {
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
