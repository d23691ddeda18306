/**
 * What the socket transports built on `ws` share (the WAMP WebSocket transport, MQTT over
 * WebSocket, the relay): the raw socket under a `ws` WebSocket, written directly with frames made
 * once for every receiver, and ping keepalive.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * The TCP (or TLS) socket under an open `ws` WebSocket. `ws` keeps it private; fan-out writes
 * frames made once (`websocket-frame.ts`) to it, in order with `ws`'s own close/ping/pong frames.
 */
export function socketOf(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/** Ping keepalive of one WebSocket: a ping per tick, and a verdict on the previous one. */
export class PingKeepalive {
  /** When the unanswered ping was sent; 0 when none is. */
  private pingSentAt = 0;

  constructor(private readonly ws: WebSocket) {
    ws.on('pong', () => {
      this.pingSentAt = 0;
    });
  }

  /**
   * One keepalive tick at `now` (ms): false when the last ping has gone unanswered for more than
   * `timeout` ms (0: unanswered by this tick), else pings if none is outstanding.
   */
  tick(now: number, timeout: number): boolean {
    if (this.pingSentAt !== 0) return now - this.pingSentAt <= timeout;
    this.pingSentAt = now;
    this.ws.ping();
    return true;
  }
}

/**
 * Whether `ws` holds part of a frame (or of a fragmented message) it has not delivered yet: its
 * receiver's buffered bytes, read right after the receiver took a chunk.
 */
export function holdsPartialFrame(ws: WebSocket): boolean {
  const r = (ws as unknown as { _receiver: { _bufferedBytes: number; _fragments: unknown[] } | null })._receiver;
  return r !== null && (r._bufferedBytes > 0 || r._fragments.length > 0);
}
