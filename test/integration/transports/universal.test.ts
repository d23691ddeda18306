/**
 * The `universal` transport as Crossbar.io's UniSocketServerProtocol: one TCP port, told apart by
 * the first bytes. crossbar-examples' `unitransport` node config unchanged (rawsocket, websocket
 * "ws", web "/" and "shared"), on one port: Autobahn|Python over Twisted RawSocket and Autobahn|JS
 * over RawSocket, Autobahn|JS over WebSocket, curl for the static files; and the protocols the
 * transport does not serve refused by closing, as Crossbar.io does.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { type AutobahnClient, connectAutobahn } from '../../helpers/clients.js';
import { type ConfigNode, NodeDir, curl, startConfigNode } from '../../helpers/crossbar-node.js';
import { eventually } from '../../helpers/eventually.js';

const MQTT_EXAMPLE = fileURLToPath(new URL('../../../../test/fixtures/crossbar-examples/mqtt/basic/passthrough/.crossbar/config.json', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../../test/fixtures/crossbar-examples/unitransport/crossbar/node/.crossbar/config.json', import.meta.url));

/** Autobahn|Python on Twisted over RawSocket: calls, publishes, prints one JSON line. */
const PYTHON_RAWSOCKET = String.raw`
import json, sys
from twisted.internet.defer import inlineCallbacks
from autobahn.twisted.wamp import ApplicationSession, ApplicationRunner
from autobahn.wamp.types import PublishOptions
out = {}
class Client(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        out['sum'] = yield self.call('com.uni.ws_add', 20, 22)
        yield self.publish('com.uni.from_python', 'hello from rawsocket', options=PublishOptions(acknowledge=True))
        self.leave()
    def onDisconnect(self):
        # Twisted's logging takes over sys.stdout.
        sys.__stdout__.write(json.dumps(out) + '\n'); sys.__stdout__.flush()
        from twisted.internet import reactor
        reactor.stop()
ApplicationRunner(sys.argv[1], 'realm1').run(Client, log_level='critical')
`;

function pythonRawSocket(url: string): Promise<{ sum: number }> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', ['-c', PYTHON_RAWSOCKET, url], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as { sum: number });
    });
  });
}

/** Connects, writes `bytes`, resolves with what came back once the server closed. */
function closedAfter(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    const got: Buffer[] = [];
    s.on('data', (b) => got.push(b));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(got)));
  });
}

describe('universal: the unitransport example, one port for RawSocket, WebSocket and HTTP', { timeout: 60_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let ws: AutobahnClient;
  before(async () => {
    dir.write('web/index.html', '<!DOCTYPE html><title>unitransport</title>');
    dir.write('_shared-web-resources/autobahn/README.txt', 'shared files');
    t = await startConfigNode(dir, JSON.parse(readFileSync(EXAMPLE, 'utf8')));
    assert.equal(t.node.addresses.length, 1, 'one listener');
    ws = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
    await ws.session.register('com.uni.ws_add', (args) => (args![0] as number) + (args![1] as number));
  });
  after(async () => {
    await ws?.close();
    await t?.stop();
    dir.remove();
  });

  it('serves the web paths to curl on the same port', async () => {
    assert.equal(await curl([`${t.http}/`]), '<!DOCTYPE html><title>unitransport</title>');
    assert.equal(await curl([`${t.http}/shared/autobahn/README.txt`]), 'shared files');
    assert.match(await curl([`${t.http}/shared/`]), /autobahn/, 'the directory listing the example enables');
    assert.equal(await curl(['-o', '/dev/null', '-w', '%{http_code}', `${t.http}/nothing-here`]), '404');
  });

  it('Autobahn|Python over Twisted RawSocket calls the WebSocket client and publishes to it', async () => {
    const got: unknown[] = [];
    await ws.session.subscribe('com.uni.from_python', (args) => void got.push(args?.[0]));
    const out = await pythonRawSocket(`rs://127.0.0.1:${t.port}`);
    assert.equal(out.sum, 42);
    await eventually(() => got.length === 1, 'the Python publication');
    assert.deepEqual(got, ['hello from rawsocket']);
  });

  it('Autobahn|JS over RawSocket and over WebSocket on the same port exchange events', async () => {
    const raw = await connectAutobahn('', { rawsocketPort: t.port });
    try {
      assert.equal((raw.session as unknown as { _socket: { info: { type: string } } })._socket.info.type, 'rawsocket');
      const got: unknown[] = [];
      await raw.session.subscribe('com.uni.to_raw', (args) => void got.push(args?.[0]));
      await ws.session.publish('com.uni.to_raw', ['over websocket'], {}, { acknowledge: true });
      await eventually(() => got.length === 1, 'the RawSocket subscriber to get the WebSocket publication');
      assert.equal(await raw.session.call('com.uni.ws_add', [1, 2]), 3);
    } finally {
      await raw.close();
    }
  });

  it('closes a connection that opens as MQTT (no mqtt part configured); the others go on', async () => {
    // An MQTT 3.1.1 CONNECT.
    const connect = Buffer.from('101000044d5154540402003c0004746573740000', 'hex').subarray(0, 18);
    assert.equal((await closedAfter(t.port, connect)).length, 0);
    assert.equal(await ws.session.call('com.uni.ws_add', [2, 2]), 4);
  });

  it('answers garbage that is not HTTP with 400 and closes', async () => {
    const answer = await closedAfter(t.port, Buffer.from('\x00\x01\x02 not a request\r\n\r\n', 'latin1'));
    assert.match(answer.toString('latin1'), /^HTTP\/1\.1 400 /);
  });
});

describe('universal with mqtt: the mqtt/basic/passthrough example (MQTT, RawSocket, WebSocket, HTTP on one port)', { timeout: 30_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let ws: AutobahnClient;
  before(async () => {
    t = await startConfigNode(dir, JSON.parse(readFileSync(MQTT_EXAMPLE, 'utf8')));
    ws = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
  });
  after(async () => {
    await ws?.close();
    await t?.stop();
    dir.remove();
  });

  it('mqtt.js clients publish and subscribe through the universal port; WAMP subscribers on it see the messages', async () => {
    const wamp: unknown[] = [];
    await ws.session.subscribe('mqtt.test.universal', () => void wamp.push(1));
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.port}`, { reconnectPeriod: 0 });
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.port}`, { reconnectPeriod: 0, protocolVersion: 5 });
    try {
      const got = new Promise<string>((r) => sub.on('message', (_topic, payload) => r(payload.toString())));
      await sub.subscribeAsync('mqtt/test/universal', { qos: 1 });
      await pub.publishAsync('mqtt/test/universal', 'over one port', { qos: 1 });
      assert.equal(await got, 'over one port');
      await eventually(() => wamp.length === 1, 'the WAMP subscriber on the same port');
      assert.match(await curl([`${t.http}/`]), /\.crossbar|mqtt|Directory|href/i, 'the example\'s directory listing at /');
    } finally {
      await sub.endAsync();
      await pub.endAsync();
    }
  });
});
