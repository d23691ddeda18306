/**
 * Arguments and ArgumentsKw pass through the dealer as the bytes they came in when caller and
 * callee speak the same serializer (JSON here: number forms and spacing a re-encoding would change
 * arrive unchanged), and as equal values when they do not. A call that waits in the queue for a
 * free callee is sent later with its own arguments.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { startNode, type TestNode } from '../../helpers/node.js';
import { M } from '../../helpers/raw-rpc.js';
import { RawSocketClient, RawWsClient, type RawClient } from '../../helpers/raw-wamp.js';
import { eventually } from '../../helpers/eventually.js';

const { INVOCATION, YIELD, REGISTER, REGISTERED, CALL, RESULT } = M;

/** JSON a re-encoding would not reproduce: "1.50", "1e3", spacing, escapes, a binary string. */
const ARGS_TEXT = '[1.50, 1e3, "a,]\\"b", "\\u0000AQID", "ü", {"k" : [ ] }] , {"z" : 2.0}';
const ARGS = [1.5, 1000, 'a,]"b', Buffer.from([1, 2, 3]), 'ü', { k: [] }];
const KWARGS = { z: 2 };

/** Registers `procedure` and answers each INVOCATION with `answer(invocation)`'s text. */
async function callee(c: RawClient, procedure: string, options: Record<string, unknown>, answer: (inv: unknown[]) => string | undefined): Promise<void> {
  const request = c.nextRequest();
  c.send([REGISTER, request, options, procedure]);
  await c.waitFor((m) => m[0] === REGISTERED && m[1] === request);
  const serve = (): void => {
    void c.waitFor((m) => m[0] === INVOCATION, 60_000).then((inv) => {
      const reply = answer(inv);
      if (reply !== undefined) c.sendBytes(reply, false);
      serve();
    }, () => undefined);
  };
  serve();
}

describe('rpc payload bytes', () => {
  let t: TestNode;
  let url: string;
  before(async () => {
    t = await startNode();
    // One node even in a cluster run: bytes pass through within a node (across nodes they are values).
    url = `ws://127.0.0.1:${t.node.port('web')}/ws`;
  });
  after(() => t.stop());

  it('hands a JSON callee the CALL\'s payload bytes, and the JSON caller the YIELD\'s', async () => {
    const e = await RawWsClient.open(url);
    await e.hello();
    const calleeTexts = e.recordTexts();
    await callee(e, 'com.bytes.echo', {}, (inv) => `[${YIELD}, ${String(inv[1])}, {}, ["yielded", 0.10 ], {"w":1E2}]`);
    const c = await RawWsClient.open(url);
    await c.hello();
    const callerTexts = c.recordTexts();
    c.sendBytes(`[${CALL}, 9, {}, "com.bytes.echo", ${ARGS_TEXT}]`, false);
    const result = await c.waitFor((m) => m[0] === RESULT && m[1] === 9);
    const invocation = calleeTexts.find((x) => x.startsWith(`[${INVOCATION},`))!;
    assert.ok(invocation.endsWith(`,{},${ARGS_TEXT}]`), invocation);
    assert.equal(callerTexts.find((x) => x.startsWith(`[${RESULT},`)), '[50,9,{},["yielded", 0.10 ], {"w":1E2}]');
    assert.deepEqual(result.slice(3), [['yielded', 0.1], { w: 100 }]);
    await Promise.all([c.goodbye(), e.goodbye()]);
  });

  it('passes an application ERROR\'s payload bytes back to the caller', async () => {
    const e = await RawWsClient.open(url);
    await e.hello();
    await callee(e, 'com.bytes.fail', {}, (inv) => `[8, 68, ${String(inv[1])}, {"d":1}, "com.example.oops", [ 3.0 ], {"why" : "x"}]`);
    const c = await RawWsClient.open(url);
    await c.hello();
    const texts = c.recordTexts();
    c.send([CALL, 4, {}, 'com.bytes.fail', []]);
    await c.waitFor((m) => m[0] === M.ERROR && m[2] === 4);
    assert.equal(texts.find((x) => x.startsWith('[8,')), '[8,48,4,{"d":1},"com.example.oops",[ 3.0 ], {"why" : "x"}]');
    await Promise.all([c.goodbye(), e.goodbye()]);
  });

  it('gives callees of other serializers and transports the same values', async () => {
    for (const serializer of ['msgpack', 'cbor'] as const) {
      const e = await RawWsClient.open(url, { serializer });
      await e.hello();
      let seen: unknown[] = [];
      const procedure = `com.bytes.values.${serializer}`;
      const request = e.nextRequest();
      e.send([REGISTER, request, {}, procedure]);
      await e.waitFor((m) => m[0] === REGISTERED);
      const c = await RawSocketClient.open(t.node.port('rawsocket'));
      await c.hello();
      c.sendBytes(`[${CALL}, 3, {}, "${procedure}", ${ARGS_TEXT}]`);
      const inv = await e.waitFor((m) => m[0] === INVOCATION);
      seen = inv.slice(4);
      e.send([YIELD, inv[1], {}, ['ok']]);
      const result = await c.waitFor((m) => m[0] === RESULT);
      assert.deepEqual(seen, [ARGS, KWARGS], serializer);
      assert.deepEqual(result.slice(3), [['ok']]);
      await Promise.all([c.goodbye(), e.goodbye()]);
    }
  });

  it('sends a call that waited for a free callee with its own arguments', async () => {
    const e = await RawWsClient.open(url);
    await e.hello();
    const held: unknown[][] = [];
    await callee(e, 'com.bytes.queued', { concurrency: 1 }, (inv) => {
      held.push(inv);
      return undefined;
    });
    const c = await RawWsClient.open(url);
    await c.hello();
    // Both CALLs in one read: the second waits in the queue while the first is at the callee, and
    // more traffic passes before it is sent.
    c.sendTogether([[CALL, 1, {}, 'com.bytes.queued', ['first', 'x'.repeat(40)]], [CALL, 2, {}, 'com.bytes.queued', ['second', 'y'.repeat(40)]]]);
    await eventually(() => held.length >= 1, 'the first invocation');
    for (let i = 0; i < 50; i++) c.send([CALL, 100 + i, {}, 'com.nothing.here', ['z'.repeat(200)]]);
    e.sendBytes(`[${YIELD}, ${String(held[0]![1])}, {}, ["done"]]`, false);
    await eventually(() => held.length >= 2, 'the queued invocation');
    assert.deepEqual(held.map((m) => m.slice(4)), [[['first', 'x'.repeat(40)]], [['second', 'y'.repeat(40)]]]);
    e.sendBytes(`[${YIELD}, ${String(held[1]![1])}, {}, ["done"]]`, false);
    await c.waitFor((m) => m[0] === RESULT && m[1] === 2);
    await Promise.all([c.goodbye(), e.goodbye()]);
  });

  it('splices payloads of every WebSocket frame length form, and over RawSocket', async () => {
    const e = await RawSocketClient.open(t.node.port('rawsocket'));
    await e.hello();
    const calleeTexts = e.recordTexts();
    await callee(e, 'com.bytes.sizes', {}, (inv) => {
      const text = calleeTexts.find((x) => x.startsWith(`[${INVOCATION},${String(inv[1])},`))!;
      return `[${YIELD},${String(inv[1])},{},${text.slice(text.indexOf('{},') + 3, -1)}]`;
    });
    const c = await RawWsClient.open(url);
    await c.hello();
    const callerTexts = c.recordTexts();
    // Frames of < 126, < 65536 and larger payloads take 2, 4 and 10 header bytes.
    for (const [i, size] of [10, 200, 70_000].entries()) {
      const args = `[ "${'s'.repeat(size)}" ]`;
      c.sendBytes(`[${CALL},${i + 1},{},"com.bytes.sizes",${args}]`, false);
      await c.waitFor((m) => m[0] === RESULT && m[1] === i + 1);
      assert.equal(callerTexts.find((x) => x.startsWith(`[${RESULT},${i + 1},`)), `[${RESULT},${i + 1},{},${args}]`, `size ${size}`);
    }
    await Promise.all([c.goodbye(), e.goodbye()]);
  });
});
