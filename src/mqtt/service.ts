/**
 * An MQTT transport as the node wires it: a gateway for the transport's options, its dynamic
 * payload codecs called through a router session of the node, and the WebSocket path handler
 * for MQTT over WebSocket (subprotocol `mqtt`, MQTT 3.1.1 §6; `mqttv3.1` too, as Mosquitto).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { TRUSTED_ROLE } from '../auth/authorizer.js';
import { LocalClient } from '../client/local-client.js';
import type { MqttOptions } from '../config/types.js';
import type { Router } from '../router/router.js';
import type { SessionOptions } from '../router/session.js';
import type { OutBudget } from '../transports/out-budget.js';
import { MqttGateway } from './gateway.js';
import type { CodecCaller } from './payload-mapping.js';

const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];
/** How long a dynamic payload codec may take. */
const CODEC_TIMEOUT_MS = 5000;

export function mqttGateway(o: MqttOptions, router: Router, session: SessionOptions, log: Logger, outBudget?: OutBudget): MqttGateway {
  const realm = router.realm(o.realm);
  return new MqttGateway(
    {
      realm: o.realm,
      uriCheck: realm?.uriCheck ?? 'loose',
      payloadMapping: o.payloadMapping,
      maxPacketSize: o.maxPacketSize,
      maxOutBuffer: o.maxOutBuffer,
      slowConsumer: o.slowConsumer,
      slowConsumerTimeout: o.slowConsumerTimeout,
      ...(outBudget ? { outBudget } : {}),
      maxMessageSize: o.maxPacketSize,
      connectTimeout: o.connectTimeout,
      maxQueuedBytes: o.maxQueuedBytes,
      maxQueuedBytesTotal: o.maxQueuedBytesTotal,
      maxOfflineSessions: o.maxOfflineSessions,
      maxInflight: o.maxInflight,
      sessionExpiry: o.sessionExpiry,
    },
    { router, session, codecs: codecCaller(router), log },
  );
}

/** Calls codec procedures from one router session per realm, joined when first needed. */
function codecCaller(router: Router): CodecCaller {
  const clients = new Map<string, Promise<LocalClient>>();
  return async (realm, procedure, args) => {
    let c = clients.get(realm);
    if (!c) {
      c = LocalClient.join(router, realm, { authid: 'xbar-mqtt-codec', authrole: TRUSTED_ROLE });
      clients.set(realm, c);
      c.catch(() => clients.delete(realm));
    }
    const client = await c;
    if (!client.isOpen) clients.delete(realm);
    return client.call(procedure, args, undefined, { timeout: CODEC_TIMEOUT_MS });
  };
}

/** MQTT over WebSocket on a web path: upgrades without the `mqtt` subprotocol get HTTP 400. */
export function mqttWebSocketPath(gateway: MqttGateway, maxPacketSize: number) {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // A packet may span frames; the MQTT framer bounds the packet itself.
    maxPayload: maxPacketSize + 8,
    clientTracking: false,
    handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  return {
    upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
      const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
      if (!SUBPROTOCOLS.some((p) => offered.includes(p))) {
        const body = 'MQTT over WebSocket needs the subprotocol "mqtt"\n';
        socket.once('finish', () => socket.destroy());
        socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => gateway.acceptWebSocket(ws, req));
    },
    close(): void {
      wss.close();
    },
  };
}
