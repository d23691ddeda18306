/**
 * The bounded outgoing buffer of one socket, shared by every socket transport (WebSocket,
 * RawSocket, the MQTT links, the relay). The socket's own write queue is the buffer; writes go
 * through the write batcher (`write-batcher.ts`), and this guard decides before each message
 * whether it may join the queue. Above the mark, a droppable message (an EVENT) is dropped and
 * counted under the 'drop' policy; anything else — or any message under the 'disconnect' policy —
 * closes the connection. The publisher never waits.
 */
import type { Socket } from 'node:net';
import type { ConnectionLimits } from './limits.js';
import { BatchedSocket, sharedBatcher, type WriteBatcher } from './write-batcher.js';

export type Admission = 'write' | 'drop' | 'disconnect';

export class OutBuffer {
  private readonly out: BatchedSocket;

  constructor(
    readonly socket: Socket,
    private readonly limits: Pick<ConnectionLimits, 'maxOutBuffer' | 'slowConsumer'>,
    private readonly batcher: WriteBatcher = sharedBatcher,
  ) {
    this.out = new BatchedSocket(socket);
  }

  /** Bytes written and not yet handed to the kernel (corked bytes included). */
  get queued(): number {
    return this.socket.writableLength;
  }

  /** Whether a message may join the queue now: 'write', else what the policy does instead. */
  admit(droppable: boolean): Admission {
    if (this.socket.writableLength <= this.limits.maxOutBuffer) return 'write';
    return droppable && this.limits.slowConsumer === 'drop' ? 'drop' : 'disconnect';
  }

  /** Why a connection refused by `admit` is closed (close code 1008). */
  get refusal(): string {
    return `slow consumer: outgoing buffer over ${this.limits.maxOutBuffer} bytes`;
  }

  /** True while this tick's writes wait, corked, for the batcher's flush. */
  get corked(): boolean {
    return this.out.corked;
  }

  /** Queues `chunk`, corked until this tick's flush: the writes of one tick leave in one writev. */
  write(chunk: Uint8Array): void {
    this.batcher.write(this.out, chunk);
  }
}
