/**
 * An `mqtt` transport's (or `mqtt` path's) options → MqttOptions, with xbar's defaults for what
 * Crossbar.io leaves to its implementation. No `payload_mapping` maps every URI `passthrough`
 * (Crossbar.io requires one and drops events no prefix matches).
 */
import type { KeyPath } from './issues.js';
import type { LoadContext } from './load-context.js';
import { authConfig } from './normalize-auth.js';
import type { MqttOptionsDocument } from './schema-mqtt.js';
import type { MqttOptions, MqttPayloadFormat } from './types.js';

const MiB = 1024 * 1024;

export const MQTT_DEFAULTS = {
  /** Largest packet: as WAMP's message limit (Mosquitto's default is MQTT's 256 MiB). */
  maxPacketSize: 16 * MiB,
  /** As a WAMP transport's (normalize.ts DEFAULTS): NATS's rule, 64 MiB and 10 s. */
  maxOutBuffer: 64 * MiB,
  slowConsumer: 'drop',
  slowConsumerTimeout: 10_000,
  connectTimeout: 10_000,
  /** Per session: 1 MiB of QoS 1 messages waiting for an offline client or the in-flight window. */
  maxQueuedBytes: MiB,
  /** All sessions of the transport together: QoS 1 messages queued or in flight. */
  maxQueuedBytesTotal: 256 * MiB,
  /** Offline persistent sessions a transport keeps; past it the longest offline one ends. */
  maxOfflineSessions: 10_000,
  /** Mosquitto's max_inflight_messages is 20; MQTT 5 clients may ask for fewer (Receive Maximum). */
  maxInflight: 1000,
  /** An offline persistent session is kept for a day (Mosquitto keeps them for ever by default). */
  sessionExpiry: 86_400,
} as const;

export function mqttOptions(o: MqttOptionsDocument, at: KeyPath, ctx: LoadContext): MqttOptions {
  const mapping = new Map<string, MqttPayloadFormat>(
    Object.entries(o.payload_mapping ?? { '': { type: 'passthrough' } }).map(([prefix, f]): [string, MqttPayloadFormat] => [
      prefix,
      f.type === 'passthrough' ? { type: 'passthrough' }
        : f.type === 'native' ? { type: 'native', serializer: f.serializer }
          : { type: 'dynamic', encoder: f.encoder, decoder: f.decoder, ...(f.realm ? { realm: f.realm } : {}) },
    ]),
  );
  const role = o.role ?? 'anonymous';
  // No `auth`: anonymous clients with the transport's `role` (Crossbar.io's documented option).
  const auth = o.auth ? authConfig(o.auth, [...at, 'auth'], ctx) : { anonymous: { type: 'static' as const, role } };
  return {
    realm: o.realm,
    role,
    payloadMapping: mapping,
    ...(auth ? { auth } : {}),
    maxPacketSize: o.max_packet_size ?? MQTT_DEFAULTS.maxPacketSize,
    maxOutBuffer: o.max_out_buffer ?? MQTT_DEFAULTS.maxOutBuffer,
    slowConsumer: o.slow_consumer ?? MQTT_DEFAULTS.slowConsumer,
    slowConsumerTimeout: o.slow_consumer_timeout ?? MQTT_DEFAULTS.slowConsumerTimeout,
    connectTimeout: o.connect_timeout ?? MQTT_DEFAULTS.connectTimeout,
    maxQueuedBytes: o.max_queued_bytes ?? MQTT_DEFAULTS.maxQueuedBytes,
    maxQueuedBytesTotal: o.max_queued_bytes_total ?? MQTT_DEFAULTS.maxQueuedBytesTotal,
    maxOfflineSessions: o.max_offline_sessions ?? MQTT_DEFAULTS.maxOfflineSessions,
    maxInflight: o.max_inflight ?? MQTT_DEFAULTS.maxInflight,
    sessionExpiry: o.session_expiry ?? MQTT_DEFAULTS.sessionExpiry,
  };
}
