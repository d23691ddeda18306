/** The in-node backplane's wire (backplane/hub/wire.ts): messages survive any split of the byte stream; a bad length is refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeControl, encodeControl, encodeMessage, MAX_MESSAGE, MessageReader, Op, type WireMessage } from '../../../src/backplane/hub/wire.js';

describe('hub wire', () => {
  const messages = [
    encodeMessage(Op.event, 'realm1\u0000com.é', new Uint8Array([1, 2, 3])),
    encodeControl(['hello', 1, 'w0']),
    encodeMessage(Op.reply, 'w1\u000042', new Uint8Array(70_000).fill(7)),
  ];
  const stream = Buffer.concat(messages);

  it('reads the same messages however the stream is cut, and each message\'s raw bytes are what was sent', () => {
    for (const cut of [1, 2, 5, 7, 100, 65_536, stream.length]) {
      const got: WireMessage[] = [];
      const reader = new MessageReader((m) => got.push({ ...m, raw: Buffer.from(m.raw), body: Buffer.from(m.body) }));
      for (let at = 0; at < stream.length; at += cut) reader.feed(stream.subarray(at, at + cut));
      assert.deepEqual(got.map((m) => [m.op, m.address, m.body.length]), [[Op.event, 'realm1\u0000com.é', 3], [Op.control, '', messages[1]!.length - 7], [Op.reply, 'w1\u000042', 70_000]], `cut ${cut}`);
      assert.deepEqual(got.map((m) => m.raw), messages);
      assert.deepEqual(decodeControl(got[1]!.body), ['hello', 1, 'w0']);
    }
  });

  it('refuses a length beyond the bound before buffering it', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_MESSAGE + 1);
    const reader = new MessageReader(() => assert.fail('nothing is a message'));
    assert.throws(() => reader.feed(header), /refused/);
  });

  it('refuses a control body that is not [kind, …]', () => {
    assert.throws(() => decodeControl(Buffer.from([0x93, 1, 2, 3])), /kind/);
  });
});
