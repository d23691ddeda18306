/**
 * A lean read path under a `ws` WebSocket: the socket's chunks are parsed here first, and every
 * whole, final, masked text or binary frame within the size limit is unmasked in place and handed
 * to `onMessage` at once — no Writable stream, no event hop, no copy. Everything else (a frame
 * split across reads, a fragment, a control frame, a bad or oversized frame, compression) goes to
 * `ws`'s own receiver from that byte on, and stays there until the receiver holds nothing, so
 * `ws` keeps every rule of RFC 6455 (close codes 1002/1007/1009, the close handshake, pings) and
 * its messages still arrive as its 'message' events. Fan-out writes already bypass `ws`'s sender
 * (websocket-frame.ts); this is the same for reads: one ping-pong hop was a third ws receiver.
 */
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export type MessageSink = (data: Buffer, binary: boolean) => void;

/** The parts of ws's WebSocket and Receiver this reads (private to ws, stable across ws 8). */
interface WsInternals {
  readonly _socket: Socket;
  readonly _closeFrameReceived: boolean;
  readonly readyState: number;
  readonly _receiver: {
    readonly _state: number;
    readonly _bufferedBytes: number;
    readonly _fragments: readonly unknown[];
    readonly _maxPayload: number;
    readonly _skipUTF8Validation: boolean;
    readonly _extensions: Record<string, unknown>;
    readonly _errored: boolean;
  } | null;
}

const OPEN = 1;
/** ws's receiver state between frames. */
const GET_INFO = 0;
/** Below this, a JS loop unmasks faster than a call into bufferutil. */
const NATIVE_UNMASK_FROM = 64;

const nativeUnmask = loadNativeUnmask();

/**
 * Puts the lean reader in front of `ws`'s receiver on its socket. Returns false (and changes
 * nothing) when ws's socket listener cannot be found or an extension is negotiated: then ws reads
 * everything, as before.
 */
export function readFramesDirectly(ws: WebSocket, onMessage: MessageSink): boolean {
  const w = ws as unknown as WsInternals;
  const receiver = w._receiver;
  const socket = w._socket;
  if (!receiver || Object.keys(receiver._extensions).length > 0) return false;
  const wsOnData = socket.listeners('data').find((l) => l.name === 'socketOnData') as ((this: Socket, chunk: Buffer) => void) | undefined;
  if (!wsOnData) return false;
  const maxPayload = receiver._maxPayload > 0 ? receiver._maxPayload : Number.MAX_SAFE_INTEGER;
  const checkUtf8 = !receiver._skipUTF8Validation;
  const idle = (): boolean => receiver._state === GET_INFO && receiver._bufferedBytes === 0 && receiver._fragments.length === 0;
  const toWs = (chunk: Buffer): void => {
    // ws stops reading at a close frame or a refused frame (it removes its listener); so does this.
    if (!w._closeFrameReceived && !receiver._errored) wsOnData.call(socket, chunk);
  };
  const onData = (chunk: Buffer): void => {
    if (!idle() || receiver._errored) return toWs(chunk);
    const end = chunk.length;
    let off = 0;
    while (off < end) {
      if (w.readyState !== OPEN) return toWs(chunk.subarray(off));
      const start = wholeMessageAt(chunk, off, maxPayload);
      if (start < 0) return toWs(chunk.subarray(off));
      const length = payloadLength(chunk, off);
      const data = chunk.subarray(start, start + length);
      const binary = (chunk[off]! & 0x0f) === 2;
      unmask(data, chunk, start - 4);
      if (!binary && checkUtf8 && !isUtf8(data)) {
        // ws's answer to bad UTF-8 (1007); it gets the frame as it came.
        unmask(data, chunk, start - 4);
        return toWs(chunk.subarray(off));
      }
      off = start + length;
      onMessage(data, binary);
    }
  };
  socket.off('data', wsOnData);
  socket.on('data', onData);
  return true;
}

/**
 * Where the payload of the frame at `off` starts if it is a whole, final, masked, uncompressed
 * text or binary frame of at most `maxPayload` bytes, all of it in `b`; else -1.
 */
export function wholeMessageAt(b: Buffer, off: number, maxPayload: number): number {
  if (b.length - off < 6) return -1;
  const b0 = b[off]!;
  // FIN set, RSV clear, opcode 1 (text) or 2 (binary).
  if (b0 !== 0x81 && b0 !== 0x82) return -1;
  const b1 = b[off + 1]!;
  if ((b1 & 0x80) === 0) return -1;
  const len7 = b1 & 0x7f;
  let header: number;
  let length: number;
  if (len7 < 126) {
    header = 6;
    length = len7;
  } else if (len7 === 126) {
    header = 8;
    if (b.length - off < header) return -1;
    length = b.readUInt16BE(off + 2);
  } else {
    header = 14;
    if (b.length - off < header || b.readUInt32BE(off + 2) !== 0) return -1;
    length = b.readUInt32BE(off + 6);
  }
  if (length > maxPayload || b.length - off - header < length) return -1;
  return off + header;
}

/** The payload length of the frame at `off` (its header checked by wholeMessageAt). */
function payloadLength(b: Buffer, off: number): number {
  const len7 = b[off + 1]! & 0x7f;
  return len7 < 126 ? len7 : len7 === 126 ? b.readUInt16BE(off + 2) : b.readUInt32BE(off + 6);
}

/** XORs `data` with the 4-byte mask key at `b[at]` (RFC 6455 §5.3); its own inverse. */
export function unmask(data: Buffer, b: Buffer, at: number): void {
  const m0 = b[at]!, m1 = b[at + 1]!, m2 = b[at + 2]!, m3 = b[at + 3]!;
  if ((m0 | m1 | m2 | m3) === 0) return;
  const n = data.length;
  if (n >= NATIVE_UNMASK_FROM && nativeUnmask) return nativeUnmask(data, b.subarray(at, at + 4));
  for (let i = 0; i < n; i += 4) {
    data[i] ^= m0;
    if (i + 1 < n) data[i + 1] ^= m1;
    if (i + 2 < n) data[i + 2] ^= m2;
    if (i + 3 < n) data[i + 3] ^= m3;
  }
}

/** bufferutil (a dependency, which ws uses too), if its native build loads. */
function loadNativeUnmask(): ((data: Buffer, mask: Buffer) => void) | undefined {
  try {
    const m = createRequire(import.meta.url)('bufferutil') as { unmask?: (data: Buffer, mask: Buffer) => void };
    return typeof m.unmask === 'function' ? m.unmask : undefined;
  } catch {
    return undefined;
  }
}
