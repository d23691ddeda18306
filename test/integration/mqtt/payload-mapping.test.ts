/**
 * Payload mapping as Crossbar.io's own MQTT examples configure it (crossbar-examples/mqtt/basic
 * native and dynamic: their `.crossbar/config.json` loaded unchanged but for the endpoint, and
 * the `universal` transport, which xbar does not have yet), with the examples' payloads: CBOR
 * `{args: [pid, seq, ran]}` in native mode, the binary struct `>Hl8s` through codec procedures in
 * dynamic mode. An event no payload_mapping prefix matches is dropped, in either direction.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decode as cborDecode, encode as cborEncode } from 'cbor-x';
import mqtt from 'mqtt';
import pino from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { XbarNode } from '../../../src/node.js';
import { collector, connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';

const EXAMPLES = crossbarExample('mqtt/basic');

/** An example's config with its mqtt transport on a free loopback port, plus WAMP on /ws. */
async function exampleNode(name: string): Promise<{ node: XbarNode; mqttUrl: string; wsUrl: string; codecUrl: string }> {
  const doc = JSON.parse(readFileSync(`${EXAMPLES}/${name}/.crossbar/config.json`, 'utf8')) as {
    workers: { transports: Record<string, unknown>[]; components?: unknown; options?: unknown }[];
  };
  const w = doc.workers[0]!;
  w.transports = w.transports.filter((t) => t.type === 'mqtt');
  w.transports[0]!.endpoint = { type: 'tcp', interface: '127.0.0.1', port: 1 };
  // WAMP on /ws, and on /codec as the example's role "codec" (its codec realm has no other role).
  w.transports.push({
    type: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 2 },
    paths: { ws: { type: 'websocket' }, codec: { type: 'websocket', auth: { anonymous: { type: 'static', role: 'codec' } } } },
  });
  // The dynamic example's codec is a Python class component; here an Autobahn|JS session registers it.
  delete w.components;
  delete w.options;
  const config = parseConfig(doc, name);
  // Port 0 (free) after validation: the schema asks for 1-65535.
  const free = { ...config, transports: config.transports.map((t) => ({ ...t, endpoint: { ...t.endpoint, port: 0 } })) } as typeof config;
  const node = new XbarNode(free, { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  await node.start();
  const port = (kind: 'mqtt' | 'web') => node.port(kind);
  return { node, mqttUrl: `mqtt://127.0.0.1:${port('mqtt')}`, wsUrl: `ws://127.0.0.1:${port('web')}/ws`, codecUrl: `ws://127.0.0.1:${port('web')}/codec` };
}

describe('MQTT payload mapping (Crossbar.io examples)', () => {
  describe('native (cbor)', () => {
    let n: Awaited<ReturnType<typeof exampleNode>>;
    let wamp: AutobahnClient;
    before(async () => {
      n = await exampleNode('native');
      wamp = await connectAutobahn(n.wsUrl, { serializer: 'cbor' });
    });
    after(async () => {
      await wamp.close();
      await n.node.stop();
    });

    it('carries {args} as CBOR both ways', async () => {
      const got = collector<unknown[]>(1);
      await wamp.session.subscribe('mqtt.test.mytopic1', (args: unknown[]) => got.push(args));
      const c = await mqtt.connectAsync(n.mqttUrl, { reconnectPeriod: 0 });
      const ran = Buffer.from('0123456789abcdef', 'hex');
      await c.publishAsync('mqtt/test/mytopic1', cborEncode({ args: [4711, 1, ran] }), { qos: 1 });
      const [args] = await got.done;
      assert.deepEqual([args![0], args![1], Buffer.from(args![2] as Uint8Array).toString('hex')], [4711, 1, '0123456789abcdef']);

      const down = new Promise<Buffer>((r) => c.on('message', (_t, p) => r(p)));
      await c.subscribeAsync('mqtt/test/mytopic2');
      wamp.session.publish('mqtt.test.mytopic2', [1, 'two'], { three: 3 });
      assert.deepEqual(cborDecode(await down), { args: [1, 'two'], kwargs: { three: 3 } });
      await c.endAsync();
    });

    it('drops a payload that is not CBOR, and acknowledges it at QoS 1', async () => {
      const c = await mqtt.connectAsync(n.mqttUrl, { reconnectPeriod: 0 });
      await c.publishAsync('mqtt/test/mytopic1', Buffer.from([0xff, 0xfe]), { qos: 1 });
      await c.endAsync();
    });
  });

  describe('dynamic (codec procedures in realm "codec")', () => {
    let n: Awaited<ReturnType<typeof exampleNode>>;
    let wamp: AutobahnClient;
    let codec: AutobahnClient;
    before(async () => {
      n = await exampleNode('dynamic');
      wamp = await connectAutobahn(n.wsUrl);
      // The example's codec.MyCodec: ">Hl8s" ⇄ [pid, seq, ran-hex].
      codec = await connectAutobahn(n.codecUrl, { realm: 'codec', serializer: 'msgpack' });
    });
    after(async () => {
      await wamp.close();
      await codec.close();
      await n.node.stop();
    });

    it('decodes and encodes through the procedures, once per message', async () => {
      let encodes = 0;
      await codec.session.register('com.example.mqtt.decode', (args: unknown[]) => {
        const p = Buffer.from(args[2] as Uint8Array);
        return { args: [p.readUInt16BE(0), p.readInt32BE(2), p.subarray(6, 14).toString('hex')] };
      });
      await codec.session.register('com.example.mqtt.encode', (args: unknown[]) => {
        encodes++;
        const [pid, seq, ran] = args[2] as [number, number, string];
        const b = Buffer.alloc(14);
        b.writeUInt16BE(pid, 0);
        b.writeInt32BE(seq, 2);
        Buffer.from(ran, 'hex').copy(b, 6);
        return b;
      });
      const got = collector<unknown[]>(1);
      await wamp.session.subscribe('mqtt.test.mytopic1', (args: unknown[]) => got.push(args));
      const b = Buffer.alloc(14);
      b.writeUInt16BE(7, 0);
      b.writeInt32BE(42, 2);
      Buffer.from('00112233445566ff', 'hex').copy(b, 6);
      const c1 = await mqtt.connectAsync(n.mqttUrl, { reconnectPeriod: 0 });
      const c2 = await mqtt.connectAsync(n.mqttUrl, { reconnectPeriod: 0 });
      await c1.publishAsync('mqtt/test/mytopic1', b, { qos: 1 });
      assert.deepEqual(await got.done, [[7, 42, '00112233445566ff']]);

      const received = Promise.all([c1, c2].map((c) => new Promise<Buffer>((r) => c.on('message', (_t, p) => r(p)))));
      await c1.subscribeAsync('mqtt/test/down');
      await c2.subscribeAsync('mqtt/test/down');
      wamp.session.publish('mqtt.test.down', [7, 43, 'ffeeddccbbaa9988']);
      for (const p of await received) assert.equal(p.toString('hex'), Buffer.concat([Buffer.from([0, 7, 0, 0, 0, 43]), Buffer.from('ffeeddccbbaa9988', 'hex')]).toString('hex'));
      assert.equal(encodes, 1);
      await c1.endAsync();
      await c2.endAsync();
    });
  });
});
