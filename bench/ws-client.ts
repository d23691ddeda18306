/**
 * A minimal WebSocket client for load generation (RFC 6455 over `net`), lighter than `ws`:
 * received frames are only delimited, never copied or UTF-8-checked, so a thousand subscribers
 * in one process can count events faster than a router can send them. Sent frames are masked
 * with the all-zero key (legal; the payload bytes go out unchanged, one write per message).
 *
 * Messages sent from a frame handler are corked until the whole read chunk is handled, so a
 * client answering a batch of messages answers in one write.
 *
 * Only what the bench needs: unfragmented text/binary messages, ping → pong, close.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OP_TEXT = 1;
export const OP_BINARY = 2;
const OP_CLOSE = 8;
const OP_PING = 9;
const OP_PONG = 10;

/** Receives each whole message; `payload` is a view into the read buffer, valid during the call. */
export type FrameHandler = (payload: Buffer, opcode: number) => void;

export class BenchSocket {
  /** Replace to consume messages; the default drops them. */
  onFrame: FrameHandler = () => {};
  /** Called once when the TCP connection ends. */
  onClose: (() => void) | undefined;
  closed = false;
  private pending: Buffer | undefined;
  /** Chunks after `pending`, `partBytes` in all, not yet joined: `need` more bytes complete the frame. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  private need = 0;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
      this.onClose?.();
    });
  }

  /**
   * Opens `url` (ws://host:port/path?query) offering one subprotocol; rejects unless it is accepted.
   * `localAddress`: the loopback address to connect from (each has its own ephemeral ports).
   */
  static connect(url: string, protocol: string, timeoutMs = 10_000, localAddress?: string): Promise<BenchSocket> {
    const u = new URL(url);
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true, ...(localAddress ? { localAddress } : {}) });
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error(`WebSocket handshake with ${url} timed out`)), timeoutMs);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', fail);
        clearTimeout(timer);
        const lines = head.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map(lines.slice(1).map((l) => {
          const i = l.indexOf(':');
          return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as const;
        }));
        if (!lines[0]!.startsWith('HTTP/1.1 101') || headers.get('sec-websocket-accept') !== accept) {
          return fail(new Error(`WebSocket handshake with ${url} refused: ${lines[0]}`));
        }
        if (headers.get('sec-websocket-protocol') !== protocol) {
          return fail(new Error(`server did not accept subprotocol ${protocol}`));
        }
        const ws = new BenchSocket(socket);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) ws.receive(rest);
        resolve(ws);
      };
      socket.on('data', onData);
      socket.on('error', fail);
      socket.on('connect', () => {
        socket.write(
          `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
        );
      });
    });
  }

  /** Sends one message as a single masked frame (zero mask key) in one write. */
  send(data: Buffer | string, opcode = OP_TEXT): void {
    this.socket.write(BenchSocket.frame(data, opcode));
  }

  /** Writes a frame made by `BenchSocket.frame` (a large message framed once, sent many times). */
  sendFrame(frame: Buffer): void {
    this.socket.write(frame);
  }

  /** The masked frame (zero mask key) of one message. */
  static frame(data: Buffer | string, opcode = OP_TEXT): Buffer {
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    const len = payload.length;
    const hdr = len < 126 ? 6 : len < 65536 ? 8 : 14;
    const frame = Buffer.allocUnsafe(hdr + len);
    frame[0] = 0x80 | opcode;
    if (len < 126) {
      frame[1] = 0x80 | len;
    } else if (len < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(len, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(len), 2);
    }
    frame.writeUInt32BE(0, hdr - 4);
    payload.copy(frame, hdr);
    return frame;
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** Ends the connection without a close handshake (the bench tears everything down at once). */
  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      // A large frame arrives in many chunks: gather them and join once it is whole.
      this.parts.push(chunk);
      this.partBytes += chunk.length;
      if (this.partBytes < this.need) return;
      buf = Buffer.concat([this.pending, ...this.parts]);
      this.pending = undefined;
      this.parts = [];
      this.partBytes = 0;
      this.need = 0;
    }
    const n = buf.length;
    let off = 0;
    // Replies sent while handling this chunk leave in one write, as a real client's would.
    this.socket.cork();
    while (n - off >= 2) {
      const b0 = buf[off]!;
      const b1 = buf[off + 1]!;
      let len = b1 & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (n - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (n - off < 10) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        hdr = 10;
      }
      if (n - off < hdr + len) break;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x80) === 0 || (b1 & 0x80) !== 0) {
        this.socket.destroy(new Error('unexpected fragmented or masked frame from the server'));
        this.socket.uncork();
        return;
      }
      const payload = buf.subarray(off + hdr, off + hdr + len);
      off += hdr + len;
      if (opcode === OP_TEXT || opcode === OP_BINARY) this.onFrame(payload, opcode);
      else if (opcode === OP_PING) this.send(Buffer.from(payload), OP_PONG);
      else if (opcode === OP_CLOSE) this.socket.end();
    }
    this.socket.uncork();
    if (off < n) {
      this.pending = Buffer.from(buf.subarray(off));
      this.need = frameBytes(this.pending) - this.pending.length;
    }
  }
}

/** The whole size of the (unmasked) frame starting `b`, or a byte more than `b` when its header is incomplete. */
function frameBytes(b: Buffer): number {
  if (b.length < 2) return b.length + 1;
  const len = b[1]! & 0x7f;
  if (len < 126) return 2 + len;
  if (len === 126) return b.length < 4 ? b.length + 1 : 4 + b.readUInt16BE(2);
  return b.length < 10 ? b.length + 1 : 10 + Number(b.readBigUInt64BE(2));
}
