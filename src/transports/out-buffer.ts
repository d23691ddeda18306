/**
 * The bounded outgoing buffer shared by both transports. The socket's own write queue is the
 * buffer; this guard refuses to grow it past `maxOutBuffer` bytes. Above the mark, a droppable
 * message (an EVENT) is dropped and counted under the 'drop' policy; anything else — or any
 * message under the 'disconnect' policy — closes the connection. The publisher never waits.
 */
import type { Socket } from 'node:net';
import { CloseCode } from '../connection/close-codes.js';
import type { ConnectionLimits } from './limits.js';

export type Admission = 'write' | 'drop' | 'disconnect';

export function admit(socket: Socket, limits: ConnectionLimits, droppable: boolean): Admission {
  if (socket.writableLength <= limits.maxOutBuffer) return 'write';
  return droppable && limits.slowConsumer === 'drop' ? 'drop' : 'disconnect';
}

/** What `mayWrite` acts on: a connection's drop counter and its abort (close without handshake). */
export interface Guarded {
  dropped: number;
  abort(code: number, reason: string): void;
}

/** Whether a message may be written to `socket` now; else a drop is counted or the connection closed (1008). */
export function mayWrite(conn: Guarded, socket: Socket, limits: ConnectionLimits, droppable: boolean): boolean {
  switch (admit(socket, limits, droppable)) {
    case 'write':
      return true;
    case 'drop':
      conn.dropped++;
      return false;
    case 'disconnect':
      conn.abort(CloseCode.policyViolation, `slow consumer: outgoing buffer over ${limits.maxOutBuffer} bytes`);
      return false;
  }
}
