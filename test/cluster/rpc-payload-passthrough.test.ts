/**
 * Payload passthrough of calls across nodes (issue 17 point 6): a CALL's, a progressive call's
 * chunks', a YIELD's (progressive or final) and an invocation ERROR's Arguments and ArgumentsKw
 * cross to another node as the client's serializer encoded them: over NATS (two nodes), and over
 * the in-node hub (two workers of one node, as `xbar start --workers 2` runs them). The receiving client on the same serializer
 * gets those very bytes: hand-made MessagePack that any re-encoding would change (an array16 and a
 * map16 header, a float64 and a float32 1.5, 1 as int8, a bin value, a map whose key "2" a
 * JavaScript object would move before "b") arrives byte for byte. A receiver on another
 * serializer gets equal values.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, before, describe, it } from 'node:test';
import { startCluster } from '../helpers/cluster.js';
import { startWorkers } from '../helpers/workers.js';
import { endsWith, payload, recordBytes, values, withPayload } from '../helpers/msgpack-payload.js';
import { CLIENT_ROLES, Code, RawWsClient } from '../helpers/raw-wamp.js';

const INVOCATION = 68;
const YIELD = 70;
const REGISTER = 64;
const REGISTERED = 65;
const ERROR = 8;

const CALLEE_ROLES = { ...CLIENT_ROLES, callee: { features: { progressive_call_results: true, progressive_call_invocations: true, call_canceling: true } } };
const CALLER_ROLES = { ...CLIENT_ROLES, caller: { features: { progressive_call_results: true, progressive_call_invocations: true, call_canceling: true } } };

interface TwoNodes {
  readonly urls: readonly string[];
  stop(): Promise<void>;
}

const BACKPLANES: readonly [string, () => Promise<TwoNodes>][] = [
  ['two nodes over NATS', () => startCluster(2)],
  ['two workers over the hub', async () => {
    const w = await startWorkers(2);
    return { urls: w.nodes.map((n) => `ws://127.0.0.1:${n.port('web')}/ws`), stop: () => w.stop() };
  }],
];

for (const [name, start] of BACKPLANES) describe(`call payload bytes across nodes: ${name}`, { timeout: 60_000 }, () => {
  let c: TwoNodes;
  before(async () => {
    c = await start();
  }, { timeout: 30_000 });
  after(() => c.stop());

  async function callee(url: string, serializer: 'json' | 'msgpack', procedure: string): Promise<RawWsClient> {
    const s = await RawWsClient.open(url, { serializer });
    await s.hello('realm1', { roles: CALLEE_ROLES });
    s.send([REGISTER, 1, {}, procedure]);
    await s.waitFor((m) => m[0] === REGISTERED);
    return s;
  }

  async function caller(url: string, serializer: 'json' | 'msgpack'): Promise<RawWsClient> {
    const s = await RawWsClient.open(url, { serializer });
    await s.hello('realm1', { roles: CALLER_ROLES });
    return s;
  }

  it('carries a msgpack CALL\'s bytes to the INVOCATION on another node, and the YIELD\'s back to the RESULT', async () => {
    const served = await callee(c.urls[1]!, 'msgpack', 'com.pass.exact');
    const inBytes = recordBytes(served);
    const client = await caller(c.urls[0]!, 'msgpack');
    const outBytes = recordBytes(client);
    client.sendBytes(withPayload([Code.CALL, 1, {}, 'com.pass.exact'], payload(1)));
    const inv = await served.waitFor((m) => m[0] === INVOCATION);
    assert.deepEqual(inv.slice(4), values(1));
    endsWith(inBytes, INVOCATION, payload(1), 'INVOCATION');
    served.sendBytes(withPayload([YIELD, inv[1], {}], payload(2)));
    const result = await client.waitFor((m) => m[0] === Code.RESULT);
    assert.deepEqual(result.slice(3), values(2));
    endsWith(outBytes, Code.RESULT, payload(2), 'RESULT');
    await Promise.all([served, client].map((x) => x.goodbye()));
  });

  it('carries an invocation ERROR\'s bytes back to the caller\'s ERROR', async () => {
    const served = await callee(c.urls[1]!, 'msgpack', 'com.pass.error');
    const client = await caller(c.urls[0]!, 'msgpack');
    const outBytes = recordBytes(client);
    client.send([Code.CALL, 1, {}, 'com.pass.error', [0]]);
    const inv = await served.waitFor((m) => m[0] === INVOCATION);
    served.sendBytes(withPayload([ERROR, INVOCATION, inv[1], { why: 1 }, 'app.error.passed'], payload(3)));
    const err = await client.waitFor((m) => m[0] === ERROR);
    assert.deepEqual(err.slice(0, 5), [ERROR, Code.CALL, 1, { why: 1 }, 'app.error.passed']);
    assert.deepEqual(err.slice(5), values(3));
    endsWith(outBytes, ERROR, payload(3), 'ERROR');
    await Promise.all([served, client].map((x) => x.goodbye()));
  });

  it('carries progressive RESULTs\' and progressive invocation chunks\' bytes', async () => {
    const served = await callee(c.urls[1]!, 'msgpack', 'com.pass.stream');
    const inBytes = recordBytes(served);
    const client = await caller(c.urls[0]!, 'msgpack');
    const outBytes = recordBytes(client);
    client.sendBytes(withPayload([Code.CALL, 1, { receive_progress: true, progress: true }, 'com.pass.stream'], payload(10)));
    const first = await served.waitFor((m) => m[0] === INVOCATION);
    assert.equal((first[3] as Record<string, unknown>).progress, true);
    client.sendBytes(withPayload([Code.CALL, 1, {}, 'com.pass.stream'], payload(11)));
    const second = await served.waitFor((m) => m[0] === INVOCATION);
    assert.equal(second[1], first[1], 'one invocation');
    assert.deepEqual([first.slice(4), second.slice(4)], [values(10), values(11)]);
    endsWith(inBytes, INVOCATION, payload(10), 'the first chunk\'s INVOCATION');
    endsWith(inBytes, INVOCATION, payload(11), 'the last chunk\'s INVOCATION');
    served.sendBytes(withPayload([YIELD, first[1], { progress: true }], payload(12)));
    served.sendBytes(withPayload([YIELD, first[1], {}], payload(13)));
    const progress = await client.waitFor((m) => m[0] === Code.RESULT);
    const final = await client.waitFor((m) => m[0] === Code.RESULT);
    assert.deepEqual([progress[2], final[2]], [{ progress: true }, {}]);
    assert.deepEqual([progress.slice(3), final.slice(3)], [values(12), values(13)]);
    endsWith(outBytes, Code.RESULT, payload(12), 'the progressive RESULT');
    endsWith(outBytes, Code.RESULT, payload(13), 'the final RESULT');
    await Promise.all([served, client].map((x) => x.goodbye()));
  });

  it('gives a JSON caller of a msgpack callee on another node equal values, both ways', async () => {
    const served = await callee(c.urls[1]!, 'msgpack', 'com.pass.mixed');
    const client = await caller(c.urls[0]!, 'json');
    client.sendBytes(`[${Code.CALL}, 7, {}, "com.pass.mixed", [1.50, "a,]\\"b", "\\u0000AQID"] , {"z" : 2.0e0}]`, false);
    const inv = await served.waitFor((m) => m[0] === INVOCATION);
    assert.deepEqual(inv.slice(4), [[1.5, 'a,]"b', Buffer.from([1, 2, 3])], { z: 2 }]);
    served.sendBytes(withPayload([YIELD, inv[1], {}], payload(4)));
    const result = await client.waitFor((m) => m[0] === Code.RESULT);
    assert.deepEqual(result.slice(0, 3), [Code.RESULT, 7, {}]);
    assert.deepEqual(result.slice(3), values(4));
    await Promise.all([served, client].map((x) => x.goodbye()));
  });

  it('carries a JSON caller\'s text to a JSON callee on another node as it was written', async () => {
    const served = await callee(c.urls[1]!, 'json', 'com.pass.text');
    const texts = served.recordTexts();
    const client = await caller(c.urls[0]!, 'json');
    const callerTexts = client.recordTexts();
    const args = '[1.50, "a,]\\"b"] , {"z" : 2.0e0}';
    client.sendBytes(`[${Code.CALL}, 1, {}, "com.pass.text", ${args}]`, false);
    const inv = await served.waitFor((m) => m[0] === INVOCATION);
    assert.ok(texts.find((x) => x.startsWith(`[${INVOCATION},`))?.endsWith(`},${args}]`), `INVOCATION: ${texts.join(' | ')}`);
    const answer = '[ 1e0 ]';
    served.sendBytes(`[${YIELD}, ${inv[1] as number}, {}, ${answer}]`, false);
    await client.waitFor((m) => m[0] === Code.RESULT);
    assert.ok(callerTexts.find((x) => x.startsWith(`[${Code.RESULT},`))?.endsWith(`},${answer}]`), `RESULT: ${callerTexts.join(' | ')}`);
    await Promise.all([served, client].map((x) => x.goodbye()));
  });
});
