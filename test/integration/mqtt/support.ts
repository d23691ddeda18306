/** A node with an MQTT transport on TCP and MQTT over WebSocket on `/mqtt` beside WAMP on `/ws`. */
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import pino from 'pino';
import type { MqttOptions, MqttPayloadFormat, TransportConfig } from '../../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../../src/config/normalize-mqtt.js';
import { XbarNode } from '../../../src/node.js';
import { SESSION_DEFAULTS, testConfig, type TestNodeOptions } from '../../helpers/node.js';
import { eventually } from '../../helpers/eventually.js';

export interface MqttTestNode {
  readonly node: XbarNode;
  readonly wsUrl: string;
  readonly mqttPort: number;
  readonly webPort: number;
  /** Whether some session of the realm holds an exact subscription to `uri`. */
  subscribed(uri: string): boolean;
  /** Resolves once the MQTT session of `clientId` has no connection. */
  offline(clientId: string): Promise<void>;
  stop(): Promise<void>;
}

export function mqttOptions(o: Partial<MqttOptions> = {}): MqttOptions {
  return {
    realm: 'realm1',
    role: 'anonymous',
    payloadMapping: new Map<string, MqttPayloadFormat>([['', { type: 'passthrough' }]]),
    auth: { anonymous: { type: 'static', role: 'anonymous' } },
    ...MQTT_DEFAULTS,
    ...o,
  };
}

export async function startMqttNode(o: Partial<MqttOptions> = {}, node: TestNodeOptions = {}): Promise<MqttTestNode> {
  const options = mqttOptions(o);
  const transports: TransportConfig[] = [
    { type: 'mqtt', id: 'mqtt', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, ...options },
    {
      type: 'web', id: 'mqttweb', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 },
      paths: new Map([
        ['mqtt', { type: 'mqtt', ...options }],
        ['ws', { type: 'websocket', ...SESSION_DEFAULTS, autoPingInterval: 0, autoPingTimeout: 10_000 }],
      ]),
    },
  ];
  const n = new XbarNode(testConfig({ ...node, extraTransports: transports }), { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  await n.start();
  const port = (id: string) => n.addresses.find((a) => a.transport === id)!.port!;
  const realm = n.router.realm('realm1')!;
  return {
    node: n,
    wsUrl: `ws://127.0.0.1:${port('mqttweb')}/ws`,
    mqttPort: port('mqtt'),
    webPort: port('mqttweb'),
    subscribed: (uri) => (realm.broker.lookup(uri, 'exact')?.subscribers.size ?? 0) > 0,
    offline: async (clientId) => {
      await eventually(() => !n.mqtt.some((g) => g.online(clientId) === true), `${clientId} to be offline`);
    },
    stop: () => n.stop(),
  };
}

/** A raw TCP client: writes bytes, collects parsed packets, tells when the server closed. */
export class RawMqtt {
  readonly packets: Packet[] = [];
  readonly closed: Promise<void>;
  private readonly socket: net.Socket;
  private readonly parser;

  constructor(port: number, version: 4 | 5) {
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => this.packets.push(p));
    this.parser.on('error', () => undefined);
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d) => this.parser.parse(d));
    this.socket.on('error', () => undefined);
    this.closed = new Promise((r) => this.socket.once('close', () => r()));
  }

  send(p: Packet | Buffer, version: 4 | 5 = 4): this {
    this.socket.write(Buffer.isBuffer(p) ? p : mqttPacket.generate(p, { protocolVersion: version }));
    return this;
  }

  next(cmd: string): Promise<Packet> {
    return eventually(() => {
      const p = this.packets.find((x) => x.cmd === cmd);
      if (!p && this.socket.destroyed) throw new Error(`closed without ${cmd}; got ${this.packets.map((x) => x.cmd).join(',')}`);
      return p;
    }, `a ${cmd} packet`);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

