/**
 * The HTTP server of a `web` transport: dispatches each request or WebSocket upgrade to the
 * path service mounted at the longest matching path prefix (by whole path components).
 *
 * The path is split at "/" before each component is percent-decoded, as Twisted (Crossbar.io's
 * web server) does, so "%2F" stays inside its component and never moves a request to another
 * mount; handlers that map paths to files get those components (`RequestPath.segments`).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { pinAddress, resolveForwarded } from '../network/client-address.js';
import type { NetworkList } from '../network/networks.js';
import { refuseUpgrade } from './access-gate.js';

/** Where a request landed: the mount and what is below it. */
export interface RequestPath {
  /** The mount's URL path: "" for the root, "/a" or "/a/b" otherwise. */
  readonly mount: string;
  /**
   * The path components below the mount, each percent-decoded (Twisted's `postpath`): "/a" at
   * mount "/a" → [], "/a/" → [""], "/a/b/c.js" → ["b", "c.js"].
   */
  readonly segments: readonly string[];
  /** The query string without its "?" ('' when there is none). */
  readonly query: string;
}

export interface PathHandler {
  /** Handles a WebSocket upgrade; `rest` is the path below the mount point ('' at the mount). */
  upgrade?(req: http.IncomingMessage, socket: Socket, head: Buffer, rest: string, at: RequestPath): void;
  /** Handles a plain HTTP request. */
  request?(req: http.IncomingMessage, res: http.ServerResponse, rest: string, at: RequestPath): void;
  /** Stops the handler; a promise when it stops something that takes time (a child process). */
  close?(): void | Promise<void>;
}

interface Hit {
  readonly handler: PathHandler;
  readonly rest: string;
  readonly at: RequestPath;
}

export interface WebServerOptions {
  /** Proxies whose X-Forwarded-For names the client (`network/client-address.ts`). */
  readonly trustedProxies?: NetworkList;
  /** The per-address connection limit for a WebSocket client named by X-Forwarded-For; false = refused (429). */
  readonly admitForwarded?: (address: string) => boolean;
}

export class WebServer {
  readonly server: http.Server;
  private readonly mounts = new Map<string, PathHandler>();

  constructor(private readonly options: WebServerOptions = {}) {
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

  private resolve(url: string | undefined): Hit | undefined {
    const raw = url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q < 0 ? raw : raw.slice(0, q);
    // Leading slashes are not components ("//ws" is "/ws"); a trailing one is (Twisted's "").
    const segments: string[] = [];
    try {
      for (const s of pathname.replace(/^\/+/, '').split('/')) segments.push(decodeURIComponent(s));
    } catch {
      return undefined;
    }
    for (let n = segments.length; n >= 0; n--) {
      const prefix = segments.slice(0, n);
      // A mount's key has no empty component ("/" at the root is [""] below the root mount), and
      // a decoded "/" inside a component is not a separator.
      if (prefix.some((c) => c === '' || c.includes('/'))) continue;
      const key = prefix.join('/');
      const handler = this.mounts.get(key);
      if (handler === undefined) continue;
      const below = segments.slice(n);
      return {
        handler,
        rest: below.join('/').replace(/^\/+|\/+$/g, ''),
        at: { mount: key === '' ? '' : `/${key}`, segments: below, query: q < 0 ? '' : raw.slice(q + 1) },
      };
    }
    return undefined;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    resolveForwarded(req, this.options.trustedProxies);
    const hit = this.resolve(req.url);
    if (hit?.handler.request) return hit.handler.request(req, res, hit.rest, hit.at);
    const status = hit ? 426 : 404;
    const body = hit ? 'This path serves WebSocket connections only\n' : `No service at ${req.url}\n`;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...(hit ? { upgrade: 'websocket' } : {}) });
    res.end(body);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    // The socket of a WebSocket carries one client from here on: pin it, so that every layer sees it.
    const client = resolveForwarded(req, this.options.trustedProxies);
    if (client !== undefined) {
      if (this.options.admitForwarded?.(client) === false) return refuseUpgrade(socket, 429, 'too many new connections from this address');
      pinAddress(socket, client, 0);
    }
    const hit = this.resolve(req.url);
    if (!hit?.handler.upgrade) {
      const body = `No WebSocket service at ${req.url}\n`;
      socket.once('finish', () => socket.destroy());
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    hit.handler.upgrade(req, socket, head, hit.rest, hit.at);
  }

  /** Closes every handler; resolves once all have stopped. */
  async close(): Promise<void> {
    await Promise.all([...this.mounts.values()].map((h) => h.close?.()));
  }
}
