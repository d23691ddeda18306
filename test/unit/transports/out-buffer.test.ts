/**
 * The slow-consumer guard: below the high-water mark everything is written; above it an EVENT is
 * dropped under 'drop', and anything else (a control message, or any message under 'disconnect')
 * closes the connection.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { ConnectionLimits } from '../../../src/transports/limits.js';
import { admit, mayWrite } from '../../../src/transports/out-buffer.js';

const socket = (writableLength: number) => ({ writableLength }) as Socket;
const limits = (slowConsumer: 'drop' | 'disconnect'): ConnectionLimits => ({
  maxMessageSize: 1 << 20, maxOutBuffer: 1000, slowConsumer,
});

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

  it('acts on the answer for a connection: writes, counts a drop, or aborts with 1008 naming the limit', () => {
    const aborts: [number, string][] = [];
    const conn = { dropped: 0, abort: (code: number, reason: string) => void aborts.push([code, reason]) };
    assert.equal(mayWrite(conn, socket(10), limits('drop'), true), true);
    assert.equal(mayWrite(conn, socket(1001), limits('drop'), true), false);
    assert.equal(conn.dropped, 1);
    assert.deepEqual(aborts, []);
    assert.equal(mayWrite(conn, socket(1001), limits('drop'), false), false);
    assert.deepEqual(aborts, [[1008, 'slow consumer: outgoing buffer over 1000 bytes']]);
    assert.equal(conn.dropped, 1);
  });
});
