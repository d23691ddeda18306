/**
 * The workers' direct channel for calls: each worker listens on a Unix socket of its own, next
 * to the hub's (so in the same 0700 directory), and a worker that calls a callee on another
 * worker connects to that worker's socket the first time and keeps the link. Invocations, their
 * chunks and cancels go over it, and the callee's worker answers on the same socket, so a call
 * costs one hop each way instead of two (caller → hub → callee → hub → caller) and the hub is off
 * the call path. The registry, membership and everything else stay with the hub.
 *
 * The wire is the hub's (wire.ts): the same messages, writes coalesced the same way.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { MessageWriter, readMessages, type WireMessage } from './wire.js';

/** One socket of the channel: to a peer (`outgoing`, its invocations) or from one (its answers go back on it). */
export interface PeerLink {
  readonly out: MessageWriter;
  readonly outgoing: boolean;
  /** The outgoing link's socket connected: a message written before that may not have reached the peer. */
  connected: boolean;
}

export interface PeerLinkHandlers {
  message(m: WireMessage, link: PeerLink): void;
  /** The link closed (the peer died or stopped, or the connect failed); it is not used again. */
  closed(link: PeerLink): void;
}

export class PeerLinks {
  private server: Server | undefined;
  private readonly outgoing = new Map<string, { link: PeerLink; socket: Socket }>();
  private readonly incoming = new Set<Socket>();
  private closing = false;

  constructor(readonly path: string, private readonly h: PeerLinkHandlers, private readonly log: Logger) {}

  async listen(): Promise<void> {
    rmSync(this.path, { force: true });
    const server = createServer((socket) => this.accepted(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
    server.on('error', (err) => this.log.warn({ err }, 'backplane: the worker-to-worker socket failed'));
    this.server = server;
  }

  /** The link to `node` (listening at `path`), connected on first use. */
  to(node: string, path: string): PeerLink {
    const open = this.outgoing.get(node);
    if (open) return open.link;
    const socket = connect(path);
    const link: PeerLink = { out: new MessageWriter((d) => socket.write(d)), outgoing: true, connected: false };
    this.outgoing.set(node, { link, socket });
    socket.once('connect', () => (link.connected = true));
    this.wire(socket, link, () => {
      if (this.outgoing.get(node)?.link === link) this.outgoing.delete(node);
    });
    return link;
  }

  /** Closes the link to `node`, if any (the hub said it is down). */
  drop(node: string): void {
    this.outgoing.get(node)?.socket.destroy();
  }

  close(): void {
    this.closing = true;
    this.server?.close();
    rmSync(this.path, { force: true });
    for (const { socket } of this.outgoing.values()) socket.destroy();
    for (const socket of this.incoming) socket.destroy();
  }

  private accepted(socket: Socket): void {
    if (this.closing) return void socket.destroy();
    this.incoming.add(socket);
    const link: PeerLink = { out: new MessageWriter((d) => socket.write(d)), outgoing: false, connected: true };
    this.wire(socket, link, () => this.incoming.delete(socket));
  }

  private wire(socket: Socket, link: PeerLink, forget: () => void): void {
    readMessages(socket, (m) => this.h.message(m, link), (err) => {
      this.log.error({ err }, 'backplane: another worker sent what this worker cannot read; closing the link');
    });
    socket.once('close', () => {
      forget();
      this.h.closed(link);
    });
  }
}
