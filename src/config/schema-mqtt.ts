/**
 * The `mqtt` transport (Crossbar.io: `check_listening_transport_mqtt` in
 * crossbar/common/checkconfig.py): keys `id`, `type`, `endpoint`, `options`; options `realm`
 * (required), `role`, `payload_mapping`, `auth`. xbar's extensions sit beside them in `options`
 * (limits), and an `mqtt` path service of a web transport serves MQTT over WebSocket with the
 * same options.
 */
import { z } from 'zod';
import { expect, int, nonEmpty, oneOf, strict, tag } from './schema-kit.js';
import { transportAuth } from './schema-auth.js';

const MiB = 1024 * 1024;

const passthrough = strict({ type: tag('passthrough', 'payload format'), match: z.literal('prefix').optional() });
const native = strict({
  type: tag('native', 'payload format'),
  serializer: oneOf(['json', 'cbor', 'msgpack'], 'serializer', ['ubjson']),
  match: z.literal('prefix').optional(),
});
const dynamic = strict({
  type: tag('dynamic', 'payload format'),
  realm: nonEmpty().optional(),
  encoder: nonEmpty(),
  decoder: nonEmpty(),
  match: z.literal('prefix').optional(),
});

export const payloadFormat = z.discriminatedUnion('type', [passthrough, native, dynamic], {
  error: () => 'expected a payload format {"type": "passthrough" | "native" | "dynamic", …}',
});

export const mqttOptions = strict({
  realm: nonEmpty(),
  role: nonEmpty().optional(),
  /** WAMP URI prefix → payload format; the longest matching prefix wins. */
  payload_mapping: z.record(z.string(), payloadFormat, expect('object mapping URI prefixes to payload formats')).optional(),
  auth: transportAuth.optional(),
  // xbar's extensions.
  max_packet_size: int(128, 256 * MiB - 1, 'bytes').optional(),
  max_out_buffer: int(1024, 1024 * MiB, 'bytes').optional(),
  slow_consumer: oneOf(['drop', 'disconnect'], 'slow consumer policy').optional(),
  slow_consumer_timeout: int(0, 3_600_000, 'milliseconds').optional(),
  connect_timeout: int(1, 3_600_000, 'milliseconds').optional(),
  max_queued_bytes: int(0, 1024 * MiB, 'bytes').optional(),
  max_queued_bytes_total: int(0, 64 * 1024 * MiB, 'bytes').optional(),
  max_offline_sessions: int(0, 10_000_000, 'sessions').optional(),
  max_inflight: int(1, 65535, 'packets').optional(),
  session_expiry: int(0, 0xffffffff, 'seconds').optional(),
});

export type MqttOptionsDocument = z.infer<typeof mqttOptions>;

/** The `mqtt` transport; `endpoint` is the shared endpoint schema (passed in to avoid an import cycle). */
export function mqttTransport<E extends z.ZodType>(endpoint: E) {
  return strict({
    type: tag('mqtt', 'transport type'),
    id: z.string(expect('string')).regex(/^[a-z][a-z0-9_]{2,63}$/, expect('id of 3-64 characters a-z, 0-9 or "_", starting with a letter')).optional(),
    endpoint,
    options: mqttOptions,
  });
}

/** An `mqtt` path service of a web transport: MQTT over WebSocket (subprotocol `mqtt`). */
export const mqttPath = strict({ type: tag('mqtt', 'path service type'), options: mqttOptions });
