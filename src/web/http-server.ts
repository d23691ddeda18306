/**
 * The HTTP server of a `web` transport: dispatches each request or WebSocket upgrade to the
 * path service mounted at the longest matching path prefix (by whole path components).
 */
import http from 'node:http';
import type { Socket } from 'node:net';

export interface PathHandler {
  /** Handles a WebSocket upgrade; `rest` is the path below the mount point ('' at the mount). */
  upgrade?(req: http.IncomingMessage, socket: Socket, head: Buffer, rest: string): void;
  /** Handles a plain HTTP request. */
  request?(req: http.IncomingMessage, res: http.ServerResponse, rest: string): void;
  close?(): void;
}

export class WebServer {
  readonly server: http.Server;
  private readonly mounts = new Map<string, PathHandler>();

  constructor() {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (_err, socket: Socket) => {
      // Destroy once the reply is out: a peer that never closes its side must not keep it half-open.
      if (socket.writable) socket.once('finish', () => socket.destroy()).end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  /** Mounts a handler at `path` (no leading or trailing slash; '' is the root). */
  mount(path: string, handler: PathHandler): void {
    this.mounts.set(path, handler);
  }

  private resolve(url: string | undefined): { handler: PathHandler; rest: string } | undefined {
    const pathname = (url ?? '/').split('?', 1)[0]!;
    let path = pathname.replace(/^\/+|\/+$/g, '');
    try {
      path = decodeURIComponent(path);
    } catch {
      return undefined;
    }
    for (let p = path; ; ) {
      const handler = this.mounts.get(p);
      if (handler) return { handler, rest: path.slice(p.length).replace(/^\//, '') };
      if (p === '') return undefined;
      const i = p.lastIndexOf('/');
      p = i < 0 ? '' : p.slice(0, i);
    }
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const hit = this.resolve(req.url);
    if (hit?.handler.request) return hit.handler.request(req, res, hit.rest);
    const status = hit ? 426 : 404;
    const body = hit ? 'This path serves WebSocket connections only\n' : `No service at ${req.url}\n`;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...(hit ? { upgrade: 'websocket' } : {}) });
    res.end(body);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const hit = this.resolve(req.url);
    if (!hit?.handler.upgrade) {
      const body = `No WebSocket service at ${req.url}\n`;
      socket.once('finish', () => socket.destroy());
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    hit.handler.upgrade(req, socket, head, hit.rest);
  }

  close(): void {
    for (const h of this.mounts.values()) h.close?.();
  }
}
