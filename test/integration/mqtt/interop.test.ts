/**
 * Interop, table-driven: mqtt.js, mosquitto-clients and Paho, each over TCP and (mqtt.js, Paho;
 * mosquitto's clients have no WebSocket) over WebSocket, with MQTT 3.1.1 and 5, against
 * Autobahn|JS on the same realm — both ways at QoS 0 and 1, retained messages both ways, the will
 * as a testament, and a persistent session that gets what was published while it was away.
 * Payload mapping `passthrough` (the MQTT payload is the event's one binary argument).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { collector, connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { DRIVERS, type Endpoint, type Version } from '../../helpers/mqtt-clients.js';
import { startMqttNode, type MqttTestNode } from './support.js';

const text = (v: unknown): string => (v instanceof Uint8Array ? Buffer.from(v).toString() : String(v));

describe('MQTT interop with Autobahn|JS', () => {
  let t: MqttTestNode;
  let wamp: AutobahnClient;
  let n = 0;

  before(async () => {
    t = await startMqttNode();
    wamp = await connectAutobahn(t.wsUrl, { serializer: 'msgpack' });
  });
  after(async () => {
    await wamp.close();
    await t.stop();
  });

  for (const driver of DRIVERS) {
    for (const ws of driver.websocket ? [false, true] : [false]) {
      for (const version of [4, 5] as Version[]) {
        const name = `${driver.name}, MQTT ${version === 5 ? '5' : '3.1.1'} over ${ws ? 'WebSocket' : 'TCP'}`;
        const at = (): Endpoint => (ws ? { port: t.webPort, wsPath: 'mqtt' } : { port: t.mqttPort });

        it(`${name}: publishes and receives at QoS 0 and 1, retained both ways`, { timeout: 30_000 }, async () => {
          const tag = `c${++n}`;
          const s = wamp.session;
          // MQTT → WAMP.
          const up = collector<string>(2, 10_000);
          await s.subscribe(`it.${tag}.up`, (args: unknown[]) => up.push(text(args[0])));
          await driver.publish(at(), { version, topic: `it/${tag}/up`, payload: 'q0', qos: 0 });
          await driver.publish(at(), { version, topic: `it/${tag}/up`, payload: 'q1', qos: 1 });
          assert.deepEqual(await up.done, ['q0', 'q1']);
          // WAMP → MQTT: a retained event first, then QoS 0 and QoS 1 events.
          await s.publish(`it.${tag}.down`, ['kept'], {}, { retain: true, acknowledge: true });
          const sub = driver.subscribe(at(), { clientId: `${tag}-sub`, version, topic: `it/${tag}/down`, qos: 1, count: 3 }, () => t.subscribed(`it.${tag}.down`));
          await sub.ready;
          s.publish(`it.${tag}.down`, ['d0']);
          s.publish(`it.${tag}.down`, ['d1'], {}, { _mqtt: { qos: 1 } } as Record<string, unknown>);
          const got = await sub.messages;
          assert.deepEqual(got.map((m) => [m.topic, m.payload, m.qos, m.retain]), [
            [`it/${tag}/down`, 'kept', 0, true],
            [`it/${tag}/down`, 'd0', 0, false],
            [`it/${tag}/down`, 'd1', 1, false],
          ]);
          // A message retained by MQTT reaches a later WAMP subscriber as a retained event.
          await driver.publish(at(), { version, topic: `it/${tag}/r`, payload: 'mr', qos: 1, retain: true });
          const retained = collector<[string, boolean]>(1, 10_000);
          await s.subscribe(`it.${tag}.r`, (args: unknown[], _kw: unknown, d: { retained?: boolean }) => retained.push([text(args[0]), d.retained === true]), { get_retained: true });
          assert.deepEqual(await retained.done, [['mr', true]]);
        });

        it(`${name}: the will is a testament; a persistent session gets what it missed`, { timeout: 30_000 }, async () => {
          const tag = `c${++n}`;
          const s = wamp.session;
          const will = collector<string>(1, 10_000);
          await s.subscribe(`it.${tag}.will`, (args: unknown[]) => will.push(text(args[0])));
          await driver.dieWithWill(at(), { clientId: `${tag}-will`, version, topic: `it/${tag}/will`, payload: 'gone', qos: 1 }, () => t.subscribed(`ready.${tag}-will`));
          assert.deepEqual(await will.done, ['gone']);

          const clientId = `${tag}-persistent`;
          const first = driver.subscribe(at(), { clientId, version, topic: `it/${tag}/p`, qos: 1, count: 0, persistent: true }, () => t.subscribed(`it.${tag}.p`));
          await first.ready;
          await first.messages;
          await t.offline(clientId);
          await s.publish(`it.${tag}.p`, ['p1'], {}, { acknowledge: true, _mqtt: { qos: 1 } } as Record<string, unknown>);
          await s.publish(`it.${tag}.p`, ['p2'], {}, { acknowledge: true, _mqtt: { qos: 1 } } as Record<string, unknown>);
          const again = driver.subscribe(at(), { clientId, version, topic: `it/${tag}/p`, qos: 1, count: 2, persistent: true }, () => true);
          const got = await again.messages;
          assert.deepEqual(got.map((m) => [m.payload, m.qos]), [['p1', 1], ['p2', 1]]);
        });
      }
    }
  }
});
