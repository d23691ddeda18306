/**
 * A load-generating relay client for bench/relay.ts (RFC 6455 over `net`), lighter than `ws` so
 * that the client side is not what limits a 1:1 relay measurement:
 *
 * - sending: a header with the all-zero mask key (legal; the payload goes out unchanged) and the
 *   payload itself, written together (writev) without copying it;
 * - receiving: frames are parsed as a stream, payloads are never concatenated or copied; they are
 *   counted and, when `expect` is set, compared chunk by chunk with the expected bytes.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export class RelayClient {
  /** Messages and payload bytes received, and messages whose bytes differed from `expect`. */
  messages = 0;
  bytes = 0;
  mismatches = 0;
  /** Compare every received payload with these bytes (same length expected). */
  expect: Buffer | undefined;
  /** Called after each whole message. */
  onMessage: (() => void) | undefined;

  private head = Buffer.alloc(0);
  private remaining = -1; // payload bytes left in the current frame; -1 = reading a header
  private offset = 0;
  private bad = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
  }

  static connect(url: string): Promise<RelayClient> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', reject);
        if (!head.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
          socket.destroy();
          return reject(new Error(`${url}: ${head.subarray(0, end).toString('latin1').split('\r\n')[0]}`));
        }
        const c = new RelayClient(socket);
        if (head.length > end + 4) c.receive(head.subarray(end + 4));
        resolve(c);
      };
      socket.on('data', onData);
      socket.on('error', reject);
      socket.on('connect', () =>
        socket.write(
          `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
      );
    });
  }

  /** One binary (or text) message, masked with the zero key, header and payload in one writev. */
  send(payload: Buffer, binary = true): void {
    const len = payload.length;
    const h = Buffer.alloc(len < 126 ? 6 : len < 65536 ? 8 : 14);
    h[0] = 0x80 | (binary ? 2 : 1);
    if (len < 126) h[1] = 0x80 | len;
    else if (len < 65536) {
      h[1] = 0x80 | 126;
      h.writeUInt16BE(len, 2);
    } else {
      h[1] = 0x80 | 127;
      h.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
      h.writeUInt32BE(len >>> 0, 6);
    }
    // The last four header bytes are the (zero) mask key.
    if (len < 126) {
      this.socket.write(Buffer.concat([h, payload]));
      return;
    }
    this.socket.cork();
    this.socket.write(h);
    this.socket.write(payload);
    this.socket.uncork();
  }

  private sendControl(b0: number, payload: Buffer): void {
    const h = Buffer.from([b0, 0x80 | payload.length, 0, 0, 0, 0]);
    this.socket.write(Buffer.concat([h, payload]));
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.remaining < 0) {
        // The header (2-10 bytes), or a whole control frame (≤ 127 bytes), may straddle chunks;
        // only those bytes are ever copied.
        const h = this.head.length > 0 ? Buffer.concat([this.head, chunk.subarray(off, off + 135)]) : chunk.subarray(off, off + 135);
        const control = h.length >= 1 && (h[0]! & 0x0f) >= 8;
        const need = h.length < 2 ? Infinity : headerLength(h[1]!) + (control ? h[1]! & 0x7f : 0);
        if (h.length < need) {
          // Fewer than 135 bytes were left, so h holds all of them.
          this.head = Buffer.from(h);
          return;
        }
        off += need - this.head.length;
        this.head = Buffer.alloc(0);
        if (control) {
          // Answer pings (the relay's keepalive); skip pongs and closes.
          if ((h[0]! & 0x0f) === 9) this.sendControl(0x8a, h.subarray(2, need));
          continue;
        }
        const len = payloadLength(h);
        this.remaining = len;
        this.offset = 0;
        this.bad = this.expect !== undefined && this.expect.length !== len;
        if (len === 0) this.finish();
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - off);
      if (this.expect && !this.bad && !chunk.subarray(off, off + take).equals(this.expect.subarray(this.offset, this.offset + take))) this.bad = true;
      this.offset += take;
      this.remaining -= take;
      off += take;
      if (this.remaining === 0) this.finish();
    }
  }

  private finish(): void {
    this.messages++;
    this.bytes += this.offset;
    if (this.bad) this.mismatches++;
    this.remaining = -1;
    this.onMessage?.();
  }
}

/** Server frames are unmasked: 2, 4 or 10 header bytes by the 7-bit length. */
function headerLength(b1: number): number {
  const l = b1 & 0x7f;
  return l === 126 ? 4 : l === 127 ? 10 : 2;
}

function payloadLength(h: Buffer): number {
  const l = h[1]! & 0x7f;
  if (l === 126) return h.readUInt16BE(2);
  if (l === 127) return h.readUInt32BE(2) * 2 ** 32 + h.readUInt32BE(6);
  return l;
}
