/**
 * The `websocket-reverseproxy` web service: each WebSocket connection to the path is relayed to
 * a backend WebSocket server, as Crossbar.io's `WebSocketReverseProxyServerProtocol`
 * (`crossbar/router/protocol.py`) does: the backend is connected first, with the subprotocols
 * the client offered; the client is accepted with the one the backend chose, or refused with 503
 * when the backend cannot be reached; text and binary messages pass through unchanged; a close
 * on either side closes the other with code 1000 and the same reason.
 *
 * Each direction is bounded: when the receiving side has more than `HIGH_WATER` bytes queued,
 * the sending side is paused until it drains below `LOW_WATER`, so a slow reader never makes the
 * proxy buffer without bound.
 */
import type http from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { CloseCode } from '../../connection/close-codes.js';
import type { WebSocketProxyPathConfig } from '../../config/types-web.js';
import type { PathHandler } from '../http-server.js';

const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

function refuse(socket: Socket, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Forwards messages from `from` to `to`, pausing `from` while `to` is backed up. */
function pipe(from: WebSocket, to: WebSocket): void {
  from.on('message', (data, isBinary) => {
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data as Buffer, { binary: isBinary }, () => {
      if (from.isPaused && to.bufferedAmount < LOW_WATER) from.resume();
    });
    if (to.bufferedAmount > HIGH_WATER) from.pause();
  });
  from.on('close', (_code, reason) => {
    // Crossbar.io closes the other side with 1000 whatever the code was.
    if (to.readyState === WebSocket.OPEN || to.readyState === WebSocket.CONNECTING) to.close(CloseCode.normal, reason.subarray(0, 123));
  });
  from.on('error', () => to.terminate());
}

export function websocketProxyService(c: WebSocketProxyPathConfig, log: Logger): PathHandler {
  // The subprotocol the backend chose, per frontend request, for the frontend handshake.
  const chosen = new WeakMap<http.IncomingMessage, string>();
  const front = new WebSocketServer({
    noServer: true,
    maxPayload: c.maxMessageSize,
    perMessageDeflate: false,
    clientTracking: true,
    handleProtocols: (_offered, req) => chosen.get(req) || false,
  });
  const backends = new Set<WebSocket>();
  const e = c.endpoint;
  const connect = () => (e.type === 'tcp' ? net.connect({ host: e.host, port: e.port, ...(e.version ? { family: e.version } : {}) }) : net.connect(e.path));
  return {
    upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer) {
      const offered = (req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      const backend = new WebSocket(c.url, offered, {
        createConnection: connect,
        handshakeTimeout: e.timeout * 1000,
        maxPayload: c.maxMessageSize,
        perMessageDeflate: false,
      });
      backends.add(backend);
      backend.on('close', () => backends.delete(backend));
      let opened = false;
      socket.on('close', () => {
        if (!opened) backend.terminate();
      });
      backend.on('error', (err) => {
        if (opened) return;
        log.warn({ err: err.message, backend: c.url }, 'websocket-reverseproxy: backend not reachable');
        if (!socket.destroyed) refuse(socket, 503, 'WebSocket reverse proxy backend not reachable');
      });
      backend.on('open', () => {
        opened = true;
        if (socket.destroyed) return backend.close(CloseCode.normal);
        chosen.set(req, backend.protocol);
        front.handleUpgrade(req, socket, head, (client) => {
          pipe(client, backend);
          pipe(backend, client);
        });
      });
    },
    close() {
      for (const client of front.clients) client.terminate();
      for (const b of backends) b.terminate();
      front.close();
    },
  };
}
