/** The in-node backplane's call frames (backplane/hub/call-frames.ts): every kind reads back as written; a cut or bad frame is refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  answerMessage, cancelMessage, chunkMessage, errorMessage, invokeMessage, readInbox, readReply, rejectMessage,
} from '../../../src/backplane/hub/call-frames.js';
import { MessageReader, Op, type WireMessage } from '../../../src/backplane/hub/wire.js';
import { FrameError, FrameKind } from '../../../src/backplane/nats/frame.js';
import type { EncodedPayload } from '../../../src/wamp/payload.js';

/** The one wire message in `bytes`, as the reader splits it. */
function read(bytes: Buffer): WireMessage {
  const got: WireMessage[] = [];
  new MessageReader((m) => got.push(m)).feed(bytes);
  assert.equal(got.length, 1);
  return got[0]!;
}

const call = 2 ** 53 - 3;
const json = Buffer.from('[48,1,{},"com.é",["x",{"k":1}],{"a":[1,2]}]');
// The Arguments|ArgumentsKw of that CALL, as the router finds them in its bytes.
const payload: EncodedPayload = { serializer: 'json', message: json, start: json.indexOf('["x"'), end: json.length - 1, count: 2 };

describe('hub call frames', () => {
  it('reads an invocation back: ids, strings, details, the payload bytes as given and their values', () => {
    const m = read(invokeMessage('w1.é', 'w0.7', call, {
      realm: 'realm1', procedure: 'com.é.proc', regId: 2 ** 52 + 1, callee: 99, details: { caller: 5, procedure: 'com.é.proc' },
      args: undefined, kwargs: undefined, payload,
    }));
    assert.equal(m.op, Op.inbox);
    assert.equal(m.address, 'w1.é');
    const f = readInbox(m.body);
    assert.equal(f.kind, FrameKind.invoke);
    if (f.kind !== FrameKind.invoke) return;
    assert.deepEqual([f.origin, f.call, f.inv.realm, f.inv.procedure, f.inv.regId, f.inv.callee], ['w0.7', call, 'realm1', 'com.é.proc', 2 ** 52 + 1, 99]);
    assert.deepEqual(f.inv.details, { caller: 5, procedure: 'com.é.proc' });
    const p = f.inv.payload!;
    assert.equal(Buffer.from(p.message.subarray(p.start, p.end)).toString(), '["x",{"k":1}],{"a":[1,2]}');
    assert.deepEqual([p.serializer, p.count], ['json', 2]);
    assert.deepEqual([f.inv.args, f.inv.kwargs], [['x', { k: 1 }], { a: [1, 2] }]);
  });

  it('reads values back when there are no payload bytes, and no arguments as none', () => {
    const f = readInbox(read(invokeMessage('w1', 'w0', 1, {
      realm: 'r', procedure: 'p', regId: 1, callee: 2, details: {}, args: [1, 'two', { three: 3 }], kwargs: { big: 2 ** 53 },
    })).body);
    assert.ok(f.kind === FrameKind.invoke);
    assert.deepEqual([f.inv.args, f.inv.kwargs, f.inv.details], [[1, 'two', { three: 3 }], { big: 2 ** 53 }, {}]);
    const none = readInbox(read(chunkMessage('w1', 'w0', 1, true, { args: undefined, kwargs: undefined })).body);
    assert.ok(none.kind === FrameKind.chunk);
    assert.deepEqual([none.last, none.content.args, none.content.kwargs], [true, undefined, undefined]);
  });

  it('reads chunks, cancels and every answer back', () => {
    const chunk = readInbox(read(chunkMessage('w1', 'w0', 7, false, { args: undefined, kwargs: undefined, payload, ppt: { ppt_scheme: 'x' } })).body);
    assert.ok(chunk.kind === FrameKind.chunk);
    assert.deepEqual([chunk.origin, chunk.call, chunk.last, chunk.content.args, chunk.content.ppt], ['w0', 7, false, ['x', { k: 1 }], { ppt_scheme: 'x' }]);
    assert.deepEqual(readInbox(read(cancelMessage('w1', 'w0', 7, 'killnowait', 'wamp.error.canceled')).body),
      { kind: FrameKind.cancel, origin: 'w0', call: 7, mode: 'killnowait', reason: 'wamp.error.canceled' });
    assert.deepEqual(readInbox(read(cancelMessage('w1', 'w0', 7, 'skip', undefined)).body), { kind: FrameKind.cancel, origin: 'w0', call: 7, mode: 'skip', reason: undefined });
    const result = read(answerMessage('w0\u00007', FrameKind.result, { args: ['ok'], kwargs: undefined }));
    assert.deepEqual([result.op, result.address], [Op.reply, 'w0\u00007']);
    assert.deepEqual(readReply(result.body), { kind: FrameKind.result, content: { args: ['ok'], kwargs: undefined } });
    const progress = readReply(read(answerMessage('w0\u00007', FrameKind.progress, { args: undefined, kwargs: undefined, payload })).body);
    assert.ok(progress.kind === FrameKind.progress);
    assert.deepEqual(progress.content.kwargs, { a: [1, 2] });
    assert.deepEqual(readReply(read(errorMessage('w0\u00007', 'com.err', { why: 1 }, { args: [1], kwargs: undefined })).body),
      { kind: FrameKind.error, uri: 'com.err', details: { why: 1 }, content: { args: [1], kwargs: undefined } });
    assert.deepEqual(readReply(read(rejectMessage('w0\u00007', 'busy')).body), { kind: FrameKind.reject, why: 'busy' });
    assert.deepEqual(readReply(read(rejectMessage('w0\u00007', 'gone')).body), { kind: FrameKind.reject, why: 'gone' });
  });

  it('refuses a frame cut short anywhere, a wrong kind, a bad serializer or count, and bytes after the end', () => {
    const body = read(invokeMessage('w1', 'w0', 1, { realm: 'r', procedure: 'p', regId: 1, callee: 2, details: { a: 1 }, args: [1], kwargs: undefined })).body;
    for (let cut = 0; cut < body.length; cut++) assert.throws(() => readInbox(body.subarray(0, cut)), FrameError, `cut at ${cut}`);
    assert.throws(() => readInbox(Buffer.concat([body, Buffer.from([0])])), FrameError);
    assert.throws(() => readReply(body), FrameError, 'an inbox frame is no reply');
    const withPayload = Buffer.from(read(answerMessage('w0\u00001', FrameKind.result, { args: undefined, kwargs: undefined, payload })).body);
    // kind · u32 ppt length (0) · form 1 · serializer · count · bytes
    withPayload[6] = 3;
    assert.throws(() => readReply(withPayload), /serializer/);
    withPayload[6] = 0;
    withPayload[7] = 3;
    assert.throws(() => readReply(withPayload), /element count/);
    const cancel = Buffer.from(read(cancelMessage('w1', 'w0', 1, 'kill', undefined)).body);
    cancel[cancel.indexOf('kill') + 3] = 'x'.charCodeAt(0);
    assert.throws(() => readInbox(cancel), /cancel mode/);
  });
});
