/**
 * The frames between nodes (src/backplane/nats/frame.ts): each codec writes the wire format nodes
 * of this version and the last exchange ([kind, meta with short keys, args?, kwargs?] in
 * MessagePack), reads back what it wrote, and refuses a frame that is not what its subject
 * carries with a FrameError naming the field — for hand-made and for generated garbage.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeAnswer, decodeEvent, decodeHeartbeat, decodeInbox, decodeQuery, decodeReplayAnswer, decodeReplayAsk, decodeReply,
  decodeTestaments, encodeAnswer, encodeCancel, encodeChunk, encodeError, encodeEvent, encodeHeartbeat, encodeInvoke,
  encodeProgress, encodeQuery, encodeReject, encodeReplayAnswer, encodeReplayAsk, encodeResult, encodeTestaments,
  FrameError, FrameKind,
} from '../../../src/backplane/nats/frame.js';
import { serializerById } from '../../../src/serializers/index.js';
import { textContent, type Content } from '../../../src/wamp/messages.js';
import { prng } from '../../helpers/prng.js';

const msgpack = serializerById('msgpack')!;
const wire = (parts: unknown[]) => Buffer.from(msgpack.encode(parts)).toString('hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('backplane frames: the wire format', () => {
  it('writes an event as [1, {o, s, r, t, p, pub?, x?, el?, xa?, xr?, ea?, er?}, args, kwargs]', () => {
    const ev = {
      realm: 'r1', topic: 'com.t', publication: 7, publisher: { session: 5, authid: 'a', authrole: 'u' },
      receivers: { exclude: [1], eligible: [2], excludeAuthid: ['x'], excludeAuthrole: ['y'], eligibleAuthid: ['z'], eligibleAuthrole: ['w'] },
      args: [1, 'two'], kwargs: { k: true },
    };
    assert.equal(hex(encodeEvent('n1', 3, ev)), wire([1, {
      o: 'n1', s: 3, r: 'r1', t: 'com.t', p: 7, pub: ev.publisher, x: [1], el: [2], xa: ['x'], xr: ['y'], ea: ['z'], er: ['w'],
    }, [1, 'two'], { k: true }]));
    // No filters, no payload: neither keys nor trailing elements.
    assert.equal(hex(encodeEvent('n1', 4, { realm: 'r1', topic: 't', publication: 8, args: undefined, kwargs: undefined })),
      wire([1, { o: 'n1', s: 4, r: 'r1', t: 't', p: 8 }]));
  });

  it('writes an event with the publisher\'s encoded payload as [1, {…, ps, pc}, bytes]', () => {
    const json = serializerById('json')!;
    const message = Buffer.from('[16,1,{},"com.t",[1.50] , {"a" : 1}]');
    const payload = json.payloadOf(message, 4, 2)!;
    const bytes = encodeEvent('n1', 3, { realm: 'r1', topic: 'com.t', publication: 7, args: [1.5], kwargs: { a: 1 }, payload });
    assert.equal(hex(bytes), wire([1, { o: 'n1', s: 3, r: 'r1', t: 'com.t', p: 7, ps: 'json', pc: 2 }, Buffer.from('[1.50] , {"a" : 1}')]));
  });

  it('writes the calls\' frames with their one- and two-letter keys', () => {
    const inv = { realm: 'r', procedure: 'com.p', regId: 9, callee: 11, details: { caller: 2 }, args: [1], kwargs: undefined };
    assert.equal(hex(encodeInvoke('n1', 5, inv)), wire([2, { o: 'n1', c: 5, r: 'r', u: 'com.p', g: 9, cs: 11, d: { caller: 2 } }, [1], {}]));
    assert.equal(hex(encodeChunk('n1', 5, true, { args: [2], kwargs: { a: 1 } })), wire([3, { o: 'n1', c: 5, l: true }, [2], { a: 1 }]));
    assert.equal(hex(encodeCancel('n1', 5, 'kill', 'wamp.error.timeout')), wire([4, { o: 'n1', c: 5, m: 'kill', w: 'wamp.error.timeout' }]));
    assert.equal(hex(encodeCancel('n1', 5, 'skip', undefined)), wire([4, { o: 'n1', c: 5, m: 'skip', w: null }]));
    assert.equal(hex(encodeProgress({ args: [1], kwargs: undefined })), wire([5, {}, [1], {}]));
    assert.equal(hex(encodeResult({ args: undefined, kwargs: undefined })), wire([6, {}]));
    assert.equal(hex(encodeError('app.err', { x: 1 }, textContent('m'))), wire([7, { e: 'app.err', d: { x: 1 } }, ['m'], {}]));
    assert.equal(hex(encodeReject('busy')), wire([8, { w: 'busy' }]));
  });

  it('writes heartbeats, queries, replay and testament records as kinds 9, 10 and 11', () => {
    assert.equal(hex(encodeHeartbeat('n1')), wire([9, { o: 'n1' }]));
    assert.equal(hex(encodeHeartbeat('n1', true)), wire([10, { o: 'n1' }]));
    assert.equal(hex(encodeQuery({ kind: 'sessions' })), wire([11, { q: { kind: 'sessions' } }]));
    assert.equal(hex(encodeAnswer({ n: 1 })), wire([11, { a: { n: 1 } }]));
    assert.equal(hex(encodeReplayAsk({ since: 10, filters: ['a.>'], after: { n1: 3 } })), wire([11, { since: 10, filters: ['a.>'], after: { n1: 3 } }]));
    const frame = new Uint8Array([1, 2, 3]);
    assert.equal(hex(encodeReplayAnswer('n1', [frame])), wire([11, { o: 'n1', frames: [frame] }]));
    assert.equal(hex(encodeTestaments('r', [{ topic: 't', args: undefined, kwargs: undefined, options: { retain: true } }])),
      wire([11, { r: 'r', t: [['t', [], {}, { retain: true }]] }]));
  });
});

describe('backplane frames: reading back', () => {
  it('reads every frame as it was written', () => {
    const ev = { realm: 'r', topic: 't.u', publication: 2 ** 53 - 1, publisher: { session: 2 ** 52 + 3, authid: 'a', authrole: 'b' }, receivers: { exclude: [4] }, args: ['x'], kwargs: { y: 1 } };
    const e = decodeEvent(encodeEvent('n', 9, ev));
    assert.equal(e.origin, 'n');
    assert.equal(e.seq, 9);
    assert.deepEqual(e.event, {
      ...ev, receivers: { exclude: [4], eligible: undefined, excludeAuthid: undefined, excludeAuthrole: undefined, eligibleAuthid: undefined, eligibleAuthrole: undefined },
    });
    assert.equal(decodeEvent(encodeEvent('n', 10, { ...ev, receivers: undefined })).event.receivers, undefined, 'no lists: no receivers');

    const inv = { realm: 'r', procedure: 'p', regId: 1, callee: 2, details: {}, args: [1], kwargs: undefined };
    assert.deepEqual(decodeInbox(encodeInvoke('n', 3, inv)), { kind: FrameKind.invoke, origin: 'n', call: 3, inv });
    assert.deepEqual(decodeInbox(encodeChunk('n', 3, false, { args: [1], kwargs: undefined })), { kind: FrameKind.chunk, origin: 'n', call: 3, last: false, content: { args: [1], kwargs: undefined } });
    assert.deepEqual(decodeInbox(encodeCancel('n', 3, 'killnowait', undefined)), { kind: FrameKind.cancel, origin: 'n', call: 3, mode: 'killnowait', reason: undefined });

    assert.deepEqual(decodeReply(encodeProgress({ args: ['p'], kwargs: undefined })), { kind: FrameKind.progress, content: { args: ['p'], kwargs: undefined } });
    assert.deepEqual(decodeReply(encodeResult({ args: undefined, kwargs: { k: 1 } })), { kind: FrameKind.result, content: { args: undefined, kwargs: { k: 1 } } });
    assert.deepEqual(decodeReply(encodeError('u', { d: 1 }, { args: undefined, kwargs: undefined })), { kind: FrameKind.error, uri: 'u', details: { d: 1 }, content: { args: undefined, kwargs: undefined } });
    assert.deepEqual(decodeReply(encodeReject('gone')), { kind: FrameKind.reject, why: 'gone' });

    assert.deepEqual(decodeHeartbeat(encodeHeartbeat('n')), { node: 'n', bye: false });
    assert.deepEqual(decodeHeartbeat(encodeHeartbeat('n', true)), { node: 'n', bye: true });
    assert.deepEqual(decodeQuery(encodeQuery({ kind: 'k' })), { kind: 'k' });
    assert.deepEqual(decodeAnswer(encodeAnswer({})), {});
    assert.deepEqual(decodeReplayAsk(encodeReplayAsk({ since: 1, filters: ['f'], after: { n: 2 } })), { since: 1, filters: ['f'], after: { n: 2 } });
    const answer = decodeReplayAnswer(encodeReplayAnswer('n', [new Uint8Array([9])]));
    assert.deepEqual({ origin: answer.origin, frames: answer.frames.map((f) => [...f]) }, { origin: 'n', frames: [[9]] });
    const t = [{ topic: 't', args: [1], kwargs: {}, options: { exclude: [1] } }];
    assert.deepEqual(decodeTestaments(encodeTestaments('r', t)), { realm: 'r', testaments: t });
  });
});

describe('backplane frames: refusing what a subject does not carry', () => {
  const refuses = (fn: () => unknown, field: RegExp) => assert.throws(fn, (e: unknown) => e instanceof FrameError && field.test(e.message));

  it('reads a passed-through payload as its bytes, and decodes its arguments only when asked, once', () => {
    for (const id of ['json', 'msgpack', 'cbor'] as const) {
      const ser = serializerById(id)!;
      const message = ser.encode([16, 1, {}, 'com.t', [1, 'two'], { k: [3] }]);
      const payload = ser.payloadOf(message, 4, 2)!;
      const ev = decodeEvent(encodeEvent('n1', 3, { realm: 'r', topic: 'com.t', publication: 7, args: [1, 'two'], kwargs: { k: [3] }, payload })).event;
      assert.equal(ev.payload?.serializer, id);
      assert.equal(hex(ev.payload!.message.subarray(ev.payload!.start, ev.payload!.end)), hex(message.subarray(payload.start, payload.end)));
      assert.deepEqual([ev.args, ev.kwargs], [[1, 'two'], { k: [3] }]);
      assert.equal(ev.args, ev.args, 'decoded once');
    }
  });

  it('carries a call\'s payload bytes in invoke, chunk, progress, result and error frames, decoded only when asked', () => {
    for (const id of ['json', 'msgpack', 'cbor'] as const) {
      const ser = serializerById(id)!;
      const message = ser.encode([70, 1, {}, [1.5, 'two'], { k: [3] }]);
      const payload = ser.payloadOf(message, 3, 2)!;
      const bytes = hex(message.subarray(payload.start, payload.end));
      const content: Content = { args: [1.5, 'two'], kwargs: { k: [3] }, payload };
      const same = (c: Content, what: string) => {
        assert.equal(c.payload?.serializer, id, what);
        assert.equal(c.payload?.count, 2, what);
        assert.equal(hex(c.payload!.message.subarray(c.payload!.start, c.payload!.end)), bytes, `${what}: the very bytes`);
        assert.deepEqual([c.args, c.kwargs], [[1.5, 'two'], { k: [3] }], `${what}: the values, decoded`);
        assert.equal(c.args, c.args, `${what}: decoded once`);
      };
      const invFrame = encodeInvoke('n1', 5, { realm: 'r', procedure: 'p', regId: 1, callee: 2, details: { caller: 3 }, ...content });
      assert.equal(hex(invFrame), wire([2, { o: 'n1', c: 5, r: 'r', u: 'p', g: 1, cs: 2, d: { caller: 3 }, ps: id, pc: 2 }, Buffer.from(bytes, 'hex')]));
      const inv = decodeInbox(invFrame);
      assert.ok(inv.kind === FrameKind.invoke);
      assert.equal(inv.inv.procedure, 'p');
      same(inv.inv, `${id} invoke`);
      const chunk = decodeInbox(encodeChunk('n1', 5, true, content));
      assert.ok(chunk.kind === FrameKind.chunk && chunk.last);
      same(chunk.content, `${id} chunk`);
      for (const [encoded, kind] of [[encodeProgress(content), FrameKind.progress], [encodeResult(content), FrameKind.result]] as const) {
        const f = decodeReply(encoded);
        assert.ok(f.kind === kind && 'content' in f);
        same(f.content, `${id} answer kind ${kind}`);
      }
      const err = decodeReply(encodeError('app.err', { x: 1 }, content));
      assert.ok(err.kind === FrameKind.error);
      assert.deepEqual([err.uri, err.details], ['app.err', { x: 1 }]);
      same(err.content, `${id} error`);
    }
    // A payload of Arguments only (count 1) has no ArgumentsKw.
    const ser = serializerById('msgpack')!;
    const message = ser.encode([70, 1, {}, [true]]);
    const one = decodeReply(encodeResult({ args: [true], kwargs: undefined, payload: ser.payloadOf(message, 3, 1)! }));
    assert.ok(one.kind === FrameKind.result);
    assert.deepEqual([one.content.payload?.count, one.content.args, one.content.kwargs], [1, [true], undefined]);
    // Content without bytes is written as values, as before.
    assert.equal(decodeReply(encodeResult(textContent('x'))).kind, FrameKind.result);
  });

  it('refuses a call frame\'s passed-through payload that is not what its keys say', () => {
    refuses(() => decodeReply(msgpack.encode([6, { ps: 'yaml', pc: 1 }, Buffer.from('[]')])), /serializer \(ps\)/);
    refuses(() => decodeInbox(msgpack.encode([3, { o: 'n', c: 1, l: true, ps: 'json', pc: 0 }, Buffer.from('[]')])), /count \(pc\)/);
    refuses(() => decodeReply(msgpack.encode([7, { e: 'u', ps: 'cbor', pc: 1 }, 'text'])), /not bytes/);
    const garbage = decodeReply(msgpack.encode([6, { ps: 'msgpack', pc: 2 }, Buffer.from([0x91, 0x01, 0x01])]));
    assert.ok(garbage.kind === FrameKind.result);
    refuses(() => garbage.content.kwargs, /ArgumentsKw/);
  });

  it('refuses a passed-through payload that is not what its keys say, naming the field', () => {
    const head = { o: 'n', s: 1, r: 'r', t: 't', p: 1 };
    refuses(() => decodeEvent(msgpack.encode([1, { ...head, ps: 'xml', pc: 1 }, Buffer.from('[]')])), /serializer \(ps\)/);
    refuses(() => decodeEvent(msgpack.encode([1, { ...head, ps: 'json', pc: 3 }, Buffer.from('[]')])), /count \(pc\)/);
    refuses(() => decodeEvent(msgpack.encode([1, { ...head, ps: 'json', pc: 1 }, [1]])), /not bytes/);
    // Bytes that are not a payload: refused when the arguments are first read.
    const ev = decodeEvent(msgpack.encode([1, { ...head, ps: 'json', pc: 2 }, Buffer.from('[1], 2')])).event;
    refuses(() => ev.kwargs, /ArgumentsKw/);
    const garbage = decodeEvent(msgpack.encode([1, { ...head, ps: 'msgpack', pc: 1 }, Buffer.from([0xc1])])).event;
    refuses(() => garbage.args, /not msgpack/);
  });

  it('names the field that is wrong', () => {
    refuses(() => decodeEvent(msgpack.encode([1, { o: 'n', s: 1, r: 'r', t: 5, p: 1 }])), /topic \(t\)/);
    refuses(() => decodeEvent(msgpack.encode([1, { o: 'n', s: 'x', r: 'r', t: 't', p: 1 }])), /sequence \(s\)/);
    refuses(() => decodeEvent(msgpack.encode([1, { o: 'n', s: 1, r: 'r', t: 't', p: 1, x: ['a'] }])), /exclude \(x\)/);
    refuses(() => decodeEvent(msgpack.encode([1, { o: 'n', s: 1, r: 'r', t: 't', p: 1, pub: { session: 1 } }])), /publisher authid/);
    refuses(() => decodeInbox(msgpack.encode([2, { o: 'n', c: 1, r: 'r', u: 'p', g: 1, cs: 'x' }])), /callee \(cs\)/);
    refuses(() => decodeInbox(msgpack.encode([4, { o: 'n', c: 1, m: 'maybe' }])), /cancel mode/);
    refuses(() => decodeReply(msgpack.encode([7, { e: 3 }])), /error URI/);
    refuses(() => decodeHeartbeat(msgpack.encode([9, {}])), /node \(o\)/);
    refuses(() => decodeQuery(msgpack.encode([11, { q: [] }])), /query \(q\)/);
    refuses(() => decodeReplayAsk(msgpack.encode([11, { since: 1, after: { n: 'x' } }])), /after/);
    refuses(() => decodeReplayAnswer(msgpack.encode([11, { frames: ['x'] }])), /frames/);
    refuses(() => decodeReplayAnswer(msgpack.encode([11, { frames: [] }])), /answering node/);
    refuses(() => decodeTestaments(msgpack.encode([11, { r: 'r', t: [['t', {}, {}, {}]] }])), /testament 0/);
  });

  it('carries a node directory advert on a heartbeat, and refuses one out of bounds naming the field', () => {
    const advert = { startedAt: 1000, addresses: ['ws://h:1/ws', 'rs://h:2'], load: { sessions: 3, connections: 4, cpu: 12.6, queuedBytes: 99 }, state: 'busy' as const };
    assert.equal(hex(encodeHeartbeat('n1', false, advert)), wire([9, { o: 'n1', u: 1000, a: ['ws://h:1/ws', 'rs://h:2'], l: [3, 4, 13, 99], st: 'busy' }]));
    assert.deepEqual(decodeHeartbeat(encodeHeartbeat('n1', false, advert)), { node: 'n1', bye: false, advert: { ...advert, load: { ...advert.load, cpu: 13 } } });
    assert.deepEqual(decodeHeartbeat(encodeHeartbeat('n1', true, advert)), { node: 'n1', bye: true }, 'a bye carries no advert');
    const hb = (m: Record<string, unknown>) => msgpack.encode([9, { o: 'n', u: 1, a: [], l: [0, 0, 0, 0], st: 'ready', ...m }]);
    refuses(() => decodeHeartbeat(hb({ a: Array(33).fill('ws://h/') })), /addresses \(a\)/);
    refuses(() => decodeHeartbeat(hb({ a: ['x'.repeat(513)] })), /addresses \(a\)/);
    refuses(() => decodeHeartbeat(hb({ a: [7] })), /addresses \(a\)/);
    refuses(() => decodeHeartbeat(hb({ l: [1, 2, 3] })), /load \(l\)/);
    refuses(() => decodeHeartbeat(hb({ l: [1, 2, 3, -1] })), /load \(l\)/);
    refuses(() => decodeHeartbeat(hb({ st: 'sleepy' })), /state \(st\)/);
    refuses(() => decodeHeartbeat(hb({ u: 'yesterday' })), /start time \(u\)/);
  });

  it('refuses a frame of another subject\'s kind', () => {
    refuses(() => decodeEvent(encodeHeartbeat('n')), /kind 9/);
    refuses(() => decodeInbox(encodeResult(textContent('r'))), /kind 6/);
    refuses(() => decodeReply(encodeInvoke('n', 1, { realm: 'r', procedure: 'p', regId: 1, callee: 1, details: {}, args: undefined, kwargs: undefined })), /kind 2/);
    refuses(() => decodeHeartbeat(encodeQuery({})), /kind 11/);
  });

  it('refuses generated garbage with a FrameError and nothing else', () => {
    const rand = prng(1201);
    const decoders = [decodeEvent, decodeInbox, decodeReply, decodeHeartbeat, decodeQuery, decodeAnswer, decodeReplayAsk, decodeReplayAnswer, decodeTestaments];
    const valid = [
      encodeEvent('n', 1, { realm: 'r', topic: 't', publication: 1, args: [1], kwargs: { a: 1 } }),
      encodeInvoke('n', 1, { realm: 'r', procedure: 'p', regId: 1, callee: 1, details: {}, args: [1], kwargs: undefined }),
      encodeTestaments('r', [{ topic: 't', args: [1], kwargs: {}, options: {} }]),
    ];
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = Uint8Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256));
      } else {
        // A valid frame with a few bytes changed or cut: mostly well-formed MessagePack.
        const base = valid[i % valid.length]!;
        bytes = Uint8Array.from(base.subarray(0, Math.max(1, Math.floor(rand() * (base.length + 1)))));
        for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      }
      for (const decode of decoders) {
        try {
          decode(bytes);
        } catch (e) {
          assert.ok(e instanceof FrameError, `${decode.name} threw ${String(e)} for ${hex(bytes)}`);
        }
      }
    }
  });
});
