/**
 * The network side of one MQTT connection: bytes in, packets out, over a TCP/TLS socket or a
 * WebSocket (subprotocol `mqtt`, every packet in one binary frame). Writes go through the
 * process's write batcher (one writev per socket per tick) and the same bounded out-buffer rule
 * as the WAMP transports (`transports/out-buffer.ts`).
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { PeerInfo } from '../connection/peer.js';
import type { ConnectionLimits } from '../transports/limits.js';
import { CloseCode } from '../connection/close-codes.js';
import { type Admission, OutBuffer } from '../transports/out-buffer.js';
import { withTls } from '../transports/tls.js';
import { frameHeader } from '../transports/websocket-frame.js';

export interface Link {
  readonly peer: PeerInfo;
  /** Packets travel in WebSocket frames (PUBLISH frames are then built with the frame header). */
  readonly ws: boolean;
  /** Writes a whole packet (framed for WebSocket here). */
  writePacket(packet: Buffer): void;
  /** Writes bytes already framed for this link (a PublishFrame of the same `ws`). */
  writeRaw(chunk: Buffer): void;
  /** Whether a message may be written now under the out-buffer bound. */
  admit(droppable: boolean): Admission;
  onData(fn: (chunk: Buffer) => void): void;
  onClose(fn: (byPeer: boolean) => void): void;
  /** Flushes what is queued, then closes. */
  end(): void;
  /** Closes at once, discarding what is queued. */
  destroy(): void;
}

abstract class SocketLink implements Link {
  abstract readonly ws: boolean;
  abstract readonly peer: PeerInfo;
  protected readonly out: OutBuffer;
  protected closing = false;

  constructor(protected readonly socket: Socket, limits: ConnectionLimits) {
    this.out = new OutBuffer(socket, limits);
  }

  abstract writePacket(packet: Buffer): void;
  abstract onData(fn: (chunk: Buffer) => void): void;
  abstract onClose(fn: (byPeer: boolean) => void): void;

  writeRaw(chunk: Buffer): void {
    if (!this.socket.destroyed) this.out.write(chunk);
  }

  admit(droppable: boolean): Admission {
    return this.out.admit(droppable);
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  abstract end(): void;
}

export class TcpLink extends SocketLink {
  readonly ws = false;
  readonly peer: PeerInfo;

  constructor(socket: Socket, limits: ConnectionLimits) {
    super(socket, limits);
    socket.setNoDelay(true);
    socket.on('error', () => {
      // 'close' follows.
    });
    this.peer = {
      transport: 'mqtt',
      remoteAddress: socket.remoteAddress ?? 'unix',
      remotePort: socket.remotePort,
      secure: 'encrypted' in socket,
      ...withTls(socket),
    };
  }

  writePacket(packet: Buffer): void {
    this.writeRaw(packet);
  }

  onData(fn: (chunk: Buffer) => void): void {
    this.socket.on('data', fn);
  }

  onClose(fn: (byPeer: boolean) => void): void {
    this.socket.on('close', () => fn(!this.closing));
  }

  end(): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }
}

/** MQTT over WebSocket (MQTT 3.1.1 §6, MQTT 5 §6): binary frames, subprotocol `mqtt`. */
export class WsLink extends SocketLink {
  readonly ws = true;
  readonly peer: PeerInfo;

  constructor(private readonly wsock: WebSocket, socket: Socket, limits: ConnectionLimits, userAgent: string | undefined) {
    super(socket, limits);
    wsock.on('error', () => {
      // 'close' follows.
    });
    this.peer = {
      transport: 'mqtt',
      remoteAddress: socket.remoteAddress ?? 'unix',
      remotePort: socket.remotePort,
      ...(userAgent ? { userAgent } : {}),
      secure: 'encrypted' in socket,
      ...withTls(socket),
    };
  }

  writePacket(packet: Buffer): void {
    this.writeRaw(Buffer.concat([frameHeader(packet.length, true), packet]));
  }

  onData(fn: (chunk: Buffer) => void): void {
    // A text frame is a protocol error (MQTT-6.0.0-1): the connection is closed.
    this.wsock.on('message', (data: Buffer, isBinary: boolean) => (isBinary ? fn(data) : this.destroy()));
  }

  onClose(fn: (byPeer: boolean) => void): void {
    this.wsock.on('close', () => fn(!this.closing));
  }

  end(): void {
    if (this.closing) return;
    this.closing = true;
    // The writes of this tick are corked: close after them.
    process.nextTick(() => this.wsock.close(CloseCode.normal));
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }
}
