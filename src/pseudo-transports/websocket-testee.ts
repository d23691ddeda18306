/**
 * Crossbar.io's WebSocket testee (`crossbar/worker/testee.py`, the `websocket-testee` worker and
 * the `websocket.testee` transport): a WebSocket server that sends every message back as it came,
 * text as text and binary as binary, for the Autobahn testsuite's fuzzing client. No subprotocol
 * is chosen (as Autobahn's server without `onConnect`); a plain GET gets a status page.
 *
 * A client that sends without reading its echoes is not queued for without bound: above
 * `ECHO_BUFFER_LIMIT` bytes waiting for the socket, reading from it pauses until they have left.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type PerMessageDeflateOptions, type WebSocket } from 'ws';
import { PingKeepalive, socketOf } from '../transports/ws-socket.js';

const ECHO_BUFFER_LIMIT = 16 * 1024 * 1024;

export interface WebSocketTesteeOptions {
  readonly maxMessageSize: number;
  readonly perMessageDeflate?: PerMessageDeflateOptions;
  /** ms; 0 = no pings. */
  readonly pingInterval: number;
  readonly pingTimeout: number;
}

export class WebSocketTestee {
  readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: WebSocketTesteeOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageSize,
      perMessageDeflate: options.perMessageDeflate ?? false,
      handleProtocols: () => false,
    });
    this.server = http.createServer((req, res) => this.status(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      this.wss.handleUpgrade(req, socket, head, (ws) => this.echo(ws));
    });
  }

  private status(req: IncomingMessage, res: ServerResponse): void {
    const body =
      '<!DOCTYPE html><html><head><title>WebSocket testee</title></head><body>' +
      '<p>This is a WebSocket echo server (xbar, as Crossbar.io\'s websocket-testee): connect a WebSocket client ' +
      'such as the Autobahn testsuite to this address.</p></body></html>\n';
    res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 200 : 405, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private echo(ws: WebSocket): void {
    const socket = socketOf(ws);
    let paused = false;
    socket.on('drain', () => {
      if (paused) {
        paused = false;
        ws.resume();
      }
    });
    ws.on('message', (data, isBinary) => {
      ws.send(data as Buffer, { binary: isBinary });
      if (!paused && socket.writableLength > ECHO_BUFFER_LIMIT) {
        paused = true;
        ws.pause();
      }
    });
    ws.on('error', () => ws.terminate());
    if (this.options.pingInterval > 0) {
      const keepalive = new PingKeepalive(ws);
      const timer = setInterval(() => {
        if (!keepalive.tick(Date.now(), this.options.pingTimeout)) ws.terminate();
      }, this.options.pingInterval);
      timer.unref();
      this.timers.add(timer);
      ws.on('close', () => {
        clearInterval(timer);
        this.timers.delete(timer);
      });
    }
  }

  /** Closes every connection (1001) and stops the timers. */
  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    this.wss.close();
    this.server.closeAllConnections();
  }
}
