/**
 * Payload transparency (WAMP AP "Payload Passthru Mode", Autobahn|Python's `set_payload_codec`,
 * which Crossbar.io's cryptobox and payloadcodec examples use): Debian's Autobahn|Python with a
 * payload codec of its own publishes and calls; the router passes the one binary value in the
 * Arguments slot on bare — across serializers, nodes and workers — with the `enc_algo` options in
 * the EVENT, INVOCATION and RESULT details, and a JSON subscriber sees exactly that on the wire.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.js';
import { startNode, type TestNode } from '../../helpers/node.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';

const CLIENT = String.raw`
import asyncio, json, sys, cbor2
from autobahn.asyncio.wamp import ApplicationSession, ApplicationRunner
from autobahn.wamp.interfaces import IPayloadCodec
from autobahn.wamp.types import EncodedPayload, PublishOptions
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
ALGO = 'x_cbor_test'
role, url, ser = sys.argv[1:4]

class Codec(object):
    def encode(self, is_originating, uri, args=None, kwargs=None):
        return EncodedPayload(cbor2.dumps([list(args or []), kwargs or {}]), ALGO)
    def decode(self, is_originating, uri, encoded_payload):
        if encoded_payload.enc_algo != ALGO:
            raise Exception('enc_algo %r' % encoded_payload.enc_algo)
        args, kwargs = cbor2.loads(encoded_payload.payload)
        return uri, args, kwargs
IPayloadCodec.register(Codec)

def out(o):
    sys.stdout.write(json.dumps(o) + '\n')
    sys.stdout.flush()

class Session(ApplicationSession):
    async def onJoin(self, details):
        self.set_payload_codec(Codec())
        if role == 'callee':
            await self.subscribe(lambda *a, **kw: out({'event': [list(a), kw]}), 'com.ppt.topic')
            await self.register(lambda x, y=0: {'sum': x + y, 'echo': [x, y]}, 'com.ppt.add')
            out({'ready': True})
        else:
            await self.publish('com.ppt.topic', 'hello', 2.5, n=1, options=PublishOptions(acknowledge=True))
            out({'result': await self.call('com.ppt.add', 2, y=3)})
            self.leave()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()

serializer = {'json': JsonSerializer, 'msgpack': MsgPackSerializer, 'cbor': CBORSerializer}[ser]()
ApplicationRunner(url, 'realm1', serializers=[serializer]).run(Session, log_level='critical')
`;

interface Py { child: ChildProcess; lines: Record<string, unknown>[]; stderr: string }

function python(role: 'callee' | 'caller', url: string, serializer: string): Py {
  const p: Py = { child: spawn('/usr/bin/python3', ['-c', CLIENT, role, url, serializer], { stdio: ['ignore', 'pipe', 'pipe'] }), lines: [], stderr: '' };
  let buffered = '';
  p.child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      p.lines.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      buffered = buffered.slice(nl + 1);
    }
  });
  p.child.stderr!.on('data', (d: Buffer) => (p.stderr += d.toString()));
  return p;
}

describe('payload transparency with Autobahn|Python payload codecs', { timeout: 60_000 }, () => {
  let t: TestNode;
  const procs: Py[] = [];
  before(async () => {
    t = await startNode();
  });
  after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await t.stop();
  });

  for (const [calleeSer, callerSer] of [['msgpack', 'json'], ['json', 'cbor']] as const) {
    it(`${callerSer} publisher and caller, ${calleeSer} subscriber and callee: the codec's bytes arrive bare with enc_algo`, async () => {
      // Subscribed first: on a cluster, its interest reaches the other nodes while the callee starts.
      const wire = await RawWsClient.open(t.wsUrl);
      await wire.hello();
      await wire.subscribe('com.ppt.topic');
      const callee = python('callee', t.wsUrl, calleeSer);
      procs.push(callee);
      await eventually(() => callee.lines.some((l) => l.ready), `the callee to be ready: ${callee.stderr}`, 20_000, 20);
      const caller = python('caller', t.wsUrl, callerSer);
      procs.push(caller);
      const result = await eventually(() => caller.lines.find((l) => l.result)?.result, 'the caller\'s result', 20_000, 20).catch((e: Error) => {
        throw new Error(`${e.message}; caller: ${JSON.stringify(caller.lines)} ${caller.stderr}; callee: ${JSON.stringify(callee.lines)} ${callee.stderr}`);
      });
      assert.deepEqual(result, { sum: 5, echo: [2, 3] });
      const event = await eventually(() => callee.lines.find((l) => l.event)?.event, `the callee's event: ${callee.stderr}`, 10_000, 20);
      assert.deepEqual(event, [['hello', 2.5], { n: 1 }]);
      // On the JSON wire: [EVENT, sub, pub, {enc_algo, …}, "\u0000<base64 of the codec's CBOR>"].
      const seen = await wire.waitFor((m) => m[0] === 36);
      const details = seen[3] as Record<string, unknown>;
      assert.equal(details.enc_algo, 'x_cbor_test');
      assert.equal(seen.length, 5, 'one binary value in the Arguments slot, no ArgumentsKw');
      assert.ok(seen[4] instanceof Uint8Array, 'the Arguments slot is bytes, not a list');
      await wire.goodbye().catch(() => undefined);
      // The next round's callee registers the same procedure.
      const gone = new Promise((r) => callee.child.once('exit', r));
      callee.child.kill('SIGTERM');
      await gone;
      await eventually(async () => {
        const probe = await RawWsClient.open(t.wsUrl);
        await probe.hello();
        probe.send([48, 1, {}, 'com.ppt.add', [1]]);
        const answer = await probe.waitFor((m) => m[0] === 8 || m[0] === 50);
        await probe.goodbye().catch(() => undefined);
        return answer[0] === 8 && answer[4] === 'wamp.error.no_such_procedure';
      }, 'the callee to be gone', 10_000, 50);
    });
  }

  it('refuses a transparent payload followed by ArgumentsKw, and bytes in the Arguments slot without a scheme, as protocol violations', async () => {
    for (const options of ['{"enc_algo": "x_test"}', '{}']) {
      const c = await RawWsClient.open(t.wsUrl);
      await c.hello();
      const extra = options === '{}' ? '' : ', {"a": 1}';
      c.sendBytes(`[16, 1, ${options}, "com.ppt.bad", "\\u0000AQID"${extra}]`, false);
      const abort = await c.waitFor((m) => m[0] === 3);
      assert.equal(abort[2], 'wamp.error.protocol_violation');
    }
  });
});
