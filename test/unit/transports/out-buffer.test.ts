/**
 * The slow-consumer guard: below the high-water mark everything is written; above it an EVENT is
 * dropped under 'drop', and anything else (a control message, or any message under 'disconnect')
 * closes the connection.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { ConnectionLimits } from '../../../src/transports/limits.js';
import { OutBuffer } from '../../../src/transports/out-buffer.js';

const socket = (writableLength: number) => ({ writableLength }) as Socket;
const limits = (slowConsumer: 'drop' | 'disconnect'): ConnectionLimits => ({
  maxMessageSize: 1 << 20, maxOutBuffer: 1000, slowConsumer,
});
const admit = (s: Socket, l: ConnectionLimits, droppable: boolean) => new OutBuffer(s, l).admit(droppable);

describe('out-buffer admission', () => {
  it('writes anything while the socket buffer is at or below the mark', () => {
    for (const policy of ['drop', 'disconnect'] as const) {
      for (const droppable of [true, false]) {
        assert.equal(admit(socket(0), limits(policy), droppable), 'write');
        assert.equal(admit(socket(1000), limits(policy), droppable), 'write');
      }
    }
  });

  it("drops an EVENT above the mark under 'drop'", () => {
    assert.equal(admit(socket(1001), limits('drop'), true), 'drop');
  });

  it("disconnects rather than drop a control message, even under 'drop'", () => {
    assert.equal(admit(socket(1001), limits('drop'), false), 'disconnect');
  });

  it("disconnects above the mark under 'disconnect', whatever the message", () => {
    assert.equal(admit(socket(1001), limits('disconnect'), true), 'disconnect');
    assert.equal(admit(socket(1001), limits('disconnect'), false), 'disconnect');
  });

  it('names the limit in the reason a refused connection is closed with', () => {
    assert.equal(new OutBuffer(socket(1001), limits('drop')).refusal, 'slow consumer: outgoing buffer over 1000 bytes (max_out_buffer)');
  });
});
