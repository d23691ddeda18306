/**
 * Accepting the PROXY protocol on a listener (`proxy_protocol: true` on a TCP endpoint): the
 * returned server listens; each connection must start with a PROXY header (v1 or v2) within
 * `timeout`, from a peer in `trusted` when that list is set. The header is consumed, the client's
 * address pinned on the socket (`client-address.ts`), and the socket handed, with any bytes that
 * followed the header, to `target` (the HTTP, TLS or RawSocket server) as if it had just connected.
 * A connection without a valid header is closed at once and counted; it never reaches `target`.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import { pinAddress } from './client-address.js';
import type { NetworkList } from './networks.js';
import { decodeProxyHeader } from './proxy-protocol.js';
import type { EdgeRefusals } from './refusals.js';

export interface ProxyProtocolOptions {
  /** ms for the header to arrive. */
  readonly timeout: number;
  /** Peers that may send a header; undefined = any (firewall the port). */
  readonly trusted?: NetworkList;
  /** The transport id, for logs and counters. */
  readonly transport: string;
  readonly refusals?: EdgeRefusals;
  readonly log?: Logger;
}

export type ProxyRefusal = 'missing' | 'invalid' | 'too_large' | 'timeout' | 'untrusted';

export function acceptProxyProtocol(target: net.Server, o: ProxyProtocolOptions): net.Server {
  const outer = net.createServer((socket) => readHeader(socket, target, o));
  outer.on('error', (e) => target.emit('error', e));
  return outer;
}

function readHeader(socket: net.Socket, target: net.Server, o: ProxyProtocolOptions): void {
  const refuse = (reason: ProxyRefusal, message: string): void => {
    o.refusals?.proxyProtocol.inc({ transport: o.transport, reason });
    o.log?.debug({ transport: o.transport, remote: socket.remoteAddress, reason, message }, 'connection refused: PROXY protocol');
    socket.destroy();
  };
  socket.on('error', () => socket.destroy());
  if (o.trusted !== undefined && !o.trusted.contains(socket.remoteAddress)) {
    refuse('untrusted', `${socket.remoteAddress} is not in trusted_proxies`);
    return;
  }
  let received: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => {
    socket.off('data', onData);
    refuse('timeout', `no PROXY header within ${o.timeout} ms`);
  }, o.timeout);
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const v = decodeProxyHeader(received);
    if (v.kind === 'incomplete') return;
    clearTimeout(timer);
    socket.off('data', onData);
    if (v.kind === 'invalid') return refuse(v.reason, v.message);
    socket.pause();
    if (v.source !== undefined) pinAddress(socket, v.source.address, v.source.port);
    if (received.length > v.length) socket.unshift(received.subarray(v.length));
    target.emit('connection', socket);
    // An HTTP or RawSocket server reads with 'data' listeners, which do not resume a paused socket;
    // a TLS server takes the socket's handle and its buffered bytes itself.
    if (socket.listenerCount('data') > 0) socket.resume();
  };
  socket.on('data', onData);
}
