/**
 * An MQTT client that sends PINGREQs and never reads the PINGRESPs is cut off once they pass
 * `max_out_buffer`: the gateway's answers count against the out-buffer bound like any write
 * (issue 11 item 1, for the MQTT gateway); a well-behaved client on the same node goes on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { startMqttNode, type MqttTestNode } from './support.js';

const MAX_OUT_BUFFER = 64 * 1024;
const FLOOD = 64 * 1024 * 1024;

describe('MQTT PINGREQ flood', () => {
  let t: MqttTestNode;
  before(async () => {
    t = await startMqttNode({ maxOutBuffer: MAX_OUT_BUFFER });
  });
  after(() => t.stop());

  it(`a client that pings and never reads is closed once its PINGRESPs pass max_out_buffer (${MAX_OUT_BUFFER} bytes)`, { timeout: 60_000 }, async (ctx) => {
    const socket = net.connect(t.mqttPort, '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'pinger', clean: true, keepalive: 0 }));
    await new Promise<void>((r) => socket.once('data', () => r()));
    socket.pause();
    // 32,768 PINGREQs per write; 2 bytes each way.
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i += 2) chunk[i] = 0xc0;
    let written = 0;
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    while (!isClosed && written < FLOOD) {
      written += chunk.length;
      if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
    }
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000).unref())]);
    ctx.diagnostic(`closed after ${(written / 1024 / 1024).toFixed(1)} MiB of PINGREQs`);
    assert.ok(isClosed, `still open after ${written} bytes of PINGREQs`);

    const healthy = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.mqttPort}`, { reconnectPeriod: 0 });
    await healthy.subscribeAsync('healthy/x', { qos: 1 });
    const got = new Promise<string>((r) => healthy.once('message', (_topic, p) => r(p.toString())));
    await healthy.publishAsync('healthy/x', 'still here', { qos: 1 });
    assert.equal(await got, 'still here');
    await healthy.endAsync();
  });
});
