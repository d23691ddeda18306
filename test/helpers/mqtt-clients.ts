/**
 * Three independent MQTT clients behind one small interface, for the interop suite: mqtt.js (npm
 * `mqtt`, in process), Debian's mosquitto-clients (`mosquitto_sub`/`mosquitto_pub`) and Debian's
 * Paho (python3-paho-mqtt under /usr/bin/python3), each a real client on a real socket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { eventually } from './eventually.js';

export type Version = 4 | 5;

export interface Endpoint {
  readonly port: number;
  /** MQTT over WebSocket on this path of `port` (subprotocol `mqtt`); undefined: MQTT over TCP. */
  readonly wsPath?: string;
}

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly qos: number;
  readonly retain: boolean;
}

export interface SubscribeOptions {
  readonly clientId: string;
  readonly version: Version;
  readonly topic: string;
  readonly qos: 0 | 1;
  /** Messages to wait for before disconnecting cleanly (0: disconnect once subscribed). */
  readonly count: number;
  /** A persistent session (3.1.1: Clean Session 0; 5: Clean Start 0 and a Session Expiry Interval). */
  readonly persistent?: boolean;
}

export interface Subscriber {
  /** Resolves once SUBACK arrived (the CLI client cannot say: then when the router has the subscription). */
  readonly ready: Promise<void>;
  readonly messages: Promise<Received[]>;
}

export interface PublishOptions {
  readonly version: Version;
  readonly topic: string;
  readonly payload: string;
  readonly qos: 0 | 1;
  readonly retain?: boolean;
}

export interface WillOptions {
  readonly clientId: string;
  readonly version: Version;
  readonly topic: string;
  readonly payload: string;
  readonly qos: 0 | 1;
}

export interface MqttDriver {
  readonly name: string;
  readonly websocket: boolean;
  subscribe(at: Endpoint, o: SubscribeOptions, routerHas: () => boolean): Subscriber;
  publish(at: Endpoint, o: PublishOptions): Promise<void>;
  /** Connects with a will, then dies without DISCONNECT once connected. */
  dieWithWill(at: Endpoint, o: WillOptions, connected: () => boolean): Promise<void>;
}

const url = (at: Endpoint) => (at.wsPath ? `ws://127.0.0.1:${at.port}/${at.wsPath}` : `mqtt://127.0.0.1:${at.port}`);

export const mqttJs: MqttDriver = {
  name: 'mqtt.js',
  websocket: true,
  subscribe(at, o) {
    const c = mqtt.connect(url(at), {
      protocolVersion: o.version, clientId: o.clientId, clean: !o.persistent, reconnectPeriod: 0,
      ...(o.version === 5 && o.persistent ? { properties: { sessionExpiryInterval: 300 } } : {}),
    });
    const got: Received[] = [];
    let done: (r: Received[]) => void = () => undefined;
    const messages = new Promise<Received[]>((r) => (done = r));
    let finished = false;
    const finish = () => {
      finished = true;
      c.end(false, {}, () => done(got));
    };
    c.on('message', (topic, payload, packet) => {
      got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain });
      if (got.length === o.count) finish();
    });
    const ready = new Promise<void>((resolve, reject) => {
      c.once('error', reject);
      c.once('connect', () => {
        // A resumed session may deliver what it kept before 'connect' is emitted.
        if (finished) return resolve();
        c.subscribe(o.topic, { qos: o.qos }, (err) => {
          if (err) return reject(err);
          resolve();
          if (o.count === 0) finish();
        });
      });
    });
    return { ready, messages };
  },
  async publish(at, o) {
    const c = await mqtt.connectAsync(url(at), { protocolVersion: o.version, reconnectPeriod: 0 });
    await c.publishAsync(o.topic, o.payload, { qos: o.qos, retain: o.retain ?? false });
    await c.endAsync();
  },
  async dieWithWill(at, o) {
    const c = await mqtt.connectAsync(url(at), {
      protocolVersion: o.version, clientId: o.clientId, reconnectPeriod: 0,
      will: { topic: o.topic, payload: Buffer.from(o.payload), qos: o.qos, retain: false },
    });
    // Gone without DISCONNECT, as a crashed device.
    (c.stream as unknown as { destroy(): void }).destroy();
    c.end(true);
  },
};

function run(cmd: string, args: string[]): ChildProcess {
  return spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(p: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (p.exitCode !== null) return resolve(p.exitCode);
    p.once('exit', (code) => resolve(code ?? -1));
  });
}

const mosquittoVersion = (v: Version) => (v === 5 ? 'mqttv5' : 'mqttv311');

export const mosquitto: MqttDriver = {
  name: 'mosquitto',
  websocket: false,
  subscribe(at, o, routerHas) {
    const args = [
      '-h', '127.0.0.1', '-p', String(at.port), '-V', mosquittoVersion(o.version), '-i', o.clientId,
      '-t', o.topic, '-q', String(o.qos), '-F', '%q %r %t %p',
      ...(o.persistent ? (o.version === 5 ? ['-c', '-x', '300'] : ['-c']) : []),
      ...(o.count === 0 ? ['-E'] : ['-C', String(o.count)]),
    ];
    const p = run('mosquitto_sub', args);
    const got: Received[] = [];
    createInterface({ input: p.stdout! }).on('line', (line) => {
      const [qos, retain, topic, ...rest] = line.split(' ');
      got.push({ topic: topic!, payload: rest.join(' '), qos: Number(qos), retain: retain === '1' });
    });
    const code = exited(p);
    return {
      ready: o.count === 0 ? code.then(() => undefined) : eventually(routerHas, 'the router to have the subscription', 10_000, 10).then(() => undefined),
      messages: code.then(() => got),
    };
  },
  async publish(at, o) {
    const p = run('mosquitto_pub', [
      '-h', '127.0.0.1', '-p', String(at.port), '-V', mosquittoVersion(o.version),
      '-t', o.topic, '-m', o.payload, '-q', String(o.qos), ...(o.retain ? ['-r'] : []),
    ]);
    const code = await exited(p);
    if (code !== 0) throw new Error(`mosquitto_pub exited with ${code}`);
  },
  async dieWithWill(at, o, connected) {
    const p = run('mosquitto_sub', [
      '-h', '127.0.0.1', '-p', String(at.port), '-V', mosquittoVersion(o.version), '-i', o.clientId, '-t', `ready/${o.clientId}`,
      '--will-topic', o.topic, '--will-payload', o.payload, '--will-qos', String(o.qos),
    ]);
    await eventually(connected, 'the client to connect', 10_000, 10);
    p.kill('SIGKILL');
    await exited(p);
  },
};

/** Debian's interpreter: the `python3` on PATH may be another one without python3-paho-mqtt. */
const DEBIAN_PYTHON = '/usr/bin/python3';

const PAHO = String.raw`
import json, sys, os
import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes
cfg = json.loads(sys.argv[1])
v5 = cfg['version'] == 5
transport = 'websockets' if cfg.get('ws') else 'tcp'
kw = {} if v5 else {'clean_session': not cfg.get('persistent', False)}
c = mqtt.Client(client_id=cfg.get('client_id', ''), protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311, transport=transport, **kw)
if cfg.get('ws'):
    c.ws_set_options(path='/' + cfg['ws'])
def out(o):
    sys.stdout.write(json.dumps(o) + '\n'); sys.stdout.flush()
mode = cfg['mode']
got = []
def on_message(client, userdata, m):
    got.append(1)
    out({'topic': m.topic, 'payload': m.payload.decode(), 'qos': m.qos, 'retain': bool(m.retain)})
    if len(got) == cfg.get('count', 0):
        client.disconnect()
def on_subscribe(client, userdata, mid, *rest):
    out({'ready': True})
    if cfg.get('count', 0) == 0:
        client.disconnect()
def on_connect(client, userdata, flags, rc, *rest):
    if mode == 'sub':
        client.subscribe(cfg['topic'], qos=cfg['qos'])
    elif mode == 'pub':
        info = client.publish(cfg['topic'], cfg['payload'], qos=cfg['qos'], retain=cfg.get('retain', False))
        def done(client, userdata, mid, *rest):
            client.disconnect()
        client.on_publish = done
    elif mode == 'will':
        out({'ready': True})
c.on_message = on_message
c.on_subscribe = on_subscribe
c.on_connect = on_connect
if mode == 'will':
    c.will_set(cfg['topic'], cfg['payload'], qos=cfg['qos'])
props = None
ckw = {}
if v5:
    ckw['clean_start'] = not cfg.get('persistent', False)
    if cfg.get('persistent'):
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 300
        ckw['properties'] = props
c.connect('127.0.0.1', cfg['port'], 30, **ckw)
c.loop_forever()
`;

function paho(cfg: Record<string, unknown>): { p: ChildProcess; lines: AsyncIterable<string> } {
  const p = spawn(DEBIAN_PYTHON, ['-c', PAHO, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return { p, lines: createInterface({ input: p.stdout! }) };
}

export const pahoDriver: MqttDriver = {
  name: 'paho',
  websocket: true,
  subscribe(at, o) {
    const { p, lines } = paho({ mode: 'sub', port: at.port, ws: at.wsPath, version: o.version, client_id: o.clientId, topic: o.topic, qos: o.qos, count: o.count, persistent: o.persistent ?? false });
    const got: Received[] = [];
    let ready: () => void = () => undefined;
    const readyP = new Promise<void>((r) => (ready = r));
    const messages = (async () => {
      for await (const line of lines) {
        const m = JSON.parse(line) as Received & { ready?: boolean };
        if (m.ready) ready();
        else got.push(m);
      }
      await exited(p);
      return got;
    })();
    return { ready: readyP, messages };
  },
  async publish(at, o) {
    const { p } = paho({ mode: 'pub', port: at.port, ws: at.wsPath, version: o.version, topic: o.topic, payload: o.payload, qos: o.qos, retain: o.retain ?? false });
    const code = await exited(p);
    if (code !== 0) throw new Error(`paho exited with ${code}`);
  },
  async dieWithWill(at, o) {
    const { p, lines } = paho({ mode: 'will', port: at.port, ws: at.wsPath, version: o.version, client_id: o.clientId, topic: o.topic, payload: o.payload, qos: o.qos });
    for await (const line of lines) if ((JSON.parse(line) as { ready?: boolean }).ready) break;
    p.kill('SIGKILL');
    await exited(p);
  },
};

export const DRIVERS: readonly MqttDriver[] = [mqttJs, mosquitto, pahoDriver];
