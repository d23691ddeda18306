/**
 * The real client address of a connection or request behind a load balancer or reverse proxy.
 *
 * A socket whose client is known from a PROXY protocol header (`proxy-accept.ts`) or, for a
 * WebSocket, from a trusted X-Forwarded-For is *pinned*: its `remoteAddress`/`remotePort` are
 * replaced on that socket object, so every layer that reads them — per-address limits, logs,
 * the meta API's `transport.peer`, relay and router statistics — sees the client and not the
 * proxy, without knowing about proxies. The proxy's own address stays readable (`proxyOf`).
 *
 * X-Forwarded-For is read from right to left as nginx's `real_ip_recursive` does: each hop is
 * believed only while the address that reported it is in `trusted_proxies`; the first address
 * not in the list is the client. A header from anyone else is ignored (any client can send one).
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { NetworkList } from './networks.js';

interface Pinned {
  /** The address and port the kernel reports (the proxy). */
  readonly proxyAddress: string | undefined;
  readonly proxyPort: number | undefined;
}

const pinned = new WeakMap<net.Socket, Pinned>();
const forwardedClients = new WeakMap<IncomingMessage, string>();

/** Makes `socket` report `address` and `port` as its peer from now on. */
export function pinAddress(socket: net.Socket, address: string, port: number): void {
  if (!pinned.has(socket)) pinned.set(socket, { proxyAddress: socket.remoteAddress, proxyPort: socket.remotePort });
  Object.defineProperty(socket, 'remoteAddress', { value: address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: port, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', { value: net.isIPv6(address) ? 'IPv6' : 'IPv4', configurable: true });
}

/** The proxy a pinned socket came through (its kernel peer), or undefined for a direct client. */
export function proxyOf(socket: net.Socket): { address: string | undefined; port: number | undefined } | undefined {
  const p = pinned.get(socket);
  return p && { address: p.proxyAddress, port: p.proxyPort };
}

/**
 * A TLS socket reports its kernel peer, not what was pinned on the TCP socket under it: copy the
 * pin over (Node keeps the TCP socket of a server-side TLS socket as `_parent`).
 */
export function inheritPin(tlsSocket: net.Socket): void {
  const parent = (tlsSocket as net.Socket & { _parent?: unknown })._parent;
  if (!(parent instanceof net.Socket) || !pinned.has(parent)) return;
  pinned.set(tlsSocket, pinned.get(parent)!);
  pinAddress(tlsSocket, parent.remoteAddress ?? '', parent.remotePort ?? 0);
}

/**
 * The client of `req` by X-Forwarded-For, or undefined when the header is absent or the peer that
 * sent it is not trusted (then the peer is the client). Remembered for `clientAddress(req)`.
 */
export function resolveForwarded(req: IncomingMessage, trusted: NetworkList | undefined): string | undefined {
  if (trusted === undefined) return undefined;
  const header = req.headers['x-forwarded-for'];
  const peer = req.socket.remoteAddress;
  if (header === undefined || !trusted.contains(peer)) return undefined;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
  let client: string | undefined;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]!);
    if (hop === undefined) break; // "unknown", an obfuscated id or garbage: trust stops here
    client = hop;
    if (!trusted.contains(hop)) break;
  }
  if (client !== undefined) forwardedClients.set(req, client);
  return client;
}

/** The client address of a request: X-Forwarded-For when resolved and trusted, else its socket's peer. */
export function clientAddress(req: IncomingMessage): string | undefined {
  return forwardedClients.get(req) ?? req.socket.remoteAddress;
}

/** An X-Forwarded-For element: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1", "[2001:db8::1]:5678". */
export function hopAddress(text: string): string | undefined {
  const t = text.trim();
  if (net.isIP(t) !== 0) return t;
  const v6 = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(t);
  if (v6 && net.isIPv6(v6[1]!)) return v6[1];
  const v4 = /^([\d.]+):\d{1,5}$/.exec(t);
  if (v4 && net.isIPv4(v4[1]!)) return v4[1];
  return undefined;
}
