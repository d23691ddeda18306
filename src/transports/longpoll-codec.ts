/**
 * The body formats of WAMP over HTTP long-poll, as Autobahn|Python's serializers define them (the
 * ones Crossbar.io's long-poll service uses): a protocol "wamp.2.<serializer>" carries one message
 * per body; "wamp.2.<serializer>.batched" carries several — JSON text each followed by 0x1E (the
 * chunk after the last separator is not a message), MessagePack and CBOR each behind a 4-octet
 * big-endian length. Pure: no sockets, no sessions.
 */
import type { Serializer, SerializerId } from '../serializers/serializer.js';

export interface LongPollProtocol {
  /** "wamp.2.json", "wamp.2.json.batched", … */
  readonly name: string;
  readonly serializer: Serializer;
  readonly batched: boolean;
  /** Content-Type of a receive answer (Autobahn|Python's `MIME_TYPE`). */
  readonly mimeType: string;
}

const MIME_TYPES: Readonly<Record<SerializerId, string>> = {
  json: 'application/json',
  msgpack: 'application/x-msgpack',
  cbor: 'application/cbor',
};

const RECORD_SEPARATOR = 0x1e;

/** The protocols of these serializers, batched first, as Crossbar.io lists them. */
export function longPollProtocols(serializers: readonly Serializer[]): LongPollProtocol[] {
  return serializers.flatMap((serializer) =>
    [true, false].map((batched) => ({
      name: `wamp.2.${serializer.id}${batched ? '.batched' : ''}`,
      serializer,
      batched,
      mimeType: MIME_TYPES[serializer.id],
    })),
  );
}

/** The messages of a send body, as byte views of it; a string says why the body is not a batch. */
export function splitBody(p: LongPollProtocol, body: Buffer): Buffer[] | string {
  if (!p.batched) return [body];
  const parts: Buffer[] = [];
  if (!p.serializer.binary) {
    let start = 0;
    for (let i = body.indexOf(RECORD_SEPARATOR); i >= 0; i = body.indexOf(RECORD_SEPARATOR, start)) {
      parts.push(body.subarray(start, i));
      start = i + 1;
    }
    return parts;
  }
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 4) return 'truncated length prefix';
    const n = body.readUInt32BE(at);
    if (body.length - at - 4 < n) return 'truncated message';
    parts.push(body.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return parts;
}

/** A receive answer carrying `messages` (one, unless the protocol is batched). */
export function joinBody(p: LongPollProtocol, messages: readonly Uint8Array[]): Buffer[] {
  if (!p.batched) return messages.map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength));
  const out: Buffer[] = [];
  for (const m of messages) {
    const bytes = Buffer.from(m.buffer, m.byteOffset, m.byteLength);
    if (p.serializer.binary) {
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32BE(bytes.length, 0);
      out.push(head, bytes);
    } else {
      out.push(bytes, SEPARATOR);
    }
  }
  return out;
}

const SEPARATOR = Buffer.from([RECORD_SEPARATOR]);
