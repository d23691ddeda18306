/**
 * Payload mapping, as Crossbar.io's `payload_mapping` (crossbar/bridge/mqtt/wamp.py): WAMP URI
 * prefixes → a payload format, the longest matching prefix wins, and an event whose URI no prefix
 * matches is dropped, in either direction.
 *
 * - `passthrough`: the MQTT payload is the event's single binary argument, untouched. A WAMP event
 *   whose only argument is binary (or a string, sent as UTF-8) reaches MQTT as those bytes; any
 *   other WAMP event is sent as JSON `{"args": …, "kwargs": …}`. (Crossbar.io carries the payload
 *   in WAMP payload transparency mode, `enc_algo: "mqtt"`, which only Autobahn|Python with a
 *   payload codec can read; xbar gives the bytes to WAMP clients as the argument.)
 * - `native`: the MQTT payload is a dict `{args, kwargs, exclude…}` in the configured serializer.
 * - `dynamic`: the realm's `decoder(mapped_topic, topic, payload)` returns the PUBLISH options
 *   `{args, kwargs, …}`, and `encoder(mapped_topic, topic, args, kwargs)` returns the payload; the
 *   procedures are called in `realm` (default: the transport's) by a router session.
 */
import { serializerById } from '../serializers/index.js';
import type { Serializer } from '../serializers/serializer.js';
import type { Args, Dict, Kwargs, Receivers } from '../wamp/messages.js';

export type PayloadFormat =
  | { readonly type: 'passthrough' }
  | { readonly type: 'native'; readonly serializer: 'json' | 'cbor' | 'msgpack' }
  | { readonly type: 'dynamic'; readonly realm?: string; readonly encoder: string; readonly decoder: string };

/** Calls a codec procedure in a realm (a router session of the node). */
export type CodecCaller = (realm: string, procedure: string, args: unknown[]) => Promise<{ args: Args; kwargs: Kwargs }>;

/** What an MQTT payload becomes in WAMP: a PUBLISH's arguments and delivery rules. */
export interface WampContent {
  readonly args: Args;
  readonly kwargs: Kwargs;
  readonly receivers?: Receivers;
}

export class PayloadError extends Error {}

const RECEIVER_KEYS: readonly [string, keyof Receivers][] = [
  ['exclude', 'exclude'], ['exclude_authid', 'excludeAuthid'], ['exclude_authrole', 'excludeAuthrole'],
  ['eligible', 'eligible'], ['eligible_authid', 'eligibleAuthid'], ['eligible_authrole', 'eligibleAuthrole'],
];

export class PayloadMapping {
  /** Longest prefix first. */
  private readonly entries: readonly (readonly [string, PayloadFormat])[];
  private readonly serializers = new Map<string, Serializer>();

  constructor(
    mapping: ReadonlyMap<string, PayloadFormat>,
    /** The transport's realm: where dynamic codecs live unless their format names another. */
    private readonly realm: string,
    private readonly caller?: CodecCaller,
  ) {
    this.entries = [...mapping].sort((a, b) => b[0].length - a[0].length);
    for (const [, f] of mapping) {
      if (f.type === 'native') this.serializers.set(f.serializer, serializerById(f.serializer)!);
    }
  }

  /** The format for a WAMP URI: the longest configured prefix of it. */
  formatFor(uri: string): PayloadFormat | undefined {
    for (const [prefix, f] of this.entries) if (uri.startsWith(prefix)) return f;
    return undefined;
  }

  /** Whether any URI maps to a dynamic codec (its results arrive asynchronously). */
  get isDynamic(): boolean {
    return this.entries.some(([, f]) => f.type === 'dynamic');
  }

  /** An MQTT payload published to `topic` (mapped to `uri`) → WAMP arguments; throws PayloadError. */
  fromMqtt(format: PayloadFormat, uri: string, topic: string, payload: Buffer): WampContent | Promise<WampContent> {
    switch (format.type) {
      case 'passthrough':
        return { args: [payload], kwargs: undefined };
      case 'native': {
        let obj: unknown;
        try {
          obj = this.serializers.get(format.serializer)!.decode(payload);
        } catch (e) {
          throw new PayloadError(`payload is not ${format.serializer}: ${(e as Error).message}`);
        }
        return content(obj, `${format.serializer} payload`);
      }
      case 'dynamic':
        return this.call(format, format.decoder, [uri, topic, payload]).then((r) => content(r.args?.[0], `result of ${format.decoder}`));
    }
  }

  /** WAMP arguments of an event to `uri` (sent to MQTT as `topic`) → the MQTT payload; throws PayloadError. */
  toMqtt(format: PayloadFormat, uri: string, topic: string, args: Args, kwargs: Kwargs): Buffer | Promise<Buffer> {
    switch (format.type) {
      case 'passthrough': {
        const only = args?.length === 1 && (kwargs === undefined || Object.keys(kwargs).length === 0) ? args[0] : undefined;
        if (only instanceof Uint8Array) return asBuffer(only);
        if (typeof only === 'string') return Buffer.from(only, 'utf8');
        return Buffer.from(JSON.stringify(argsDict(args, kwargs)), 'utf8');
      }
      case 'native':
        // The serializers encode any WAMP value, a dict as well as a message array.
        return asBuffer(this.serializers.get(format.serializer)!.encode(argsDict(args, kwargs) as unknown as unknown[]));
      case 'dynamic':
        return this.call(format, format.encoder, [topic, uri, args ?? [], kwargs ?? {}]).then((r) => {
          const p = r.args?.[0];
          if (p instanceof Uint8Array) return asBuffer(p);
          if (typeof p === 'string') return Buffer.from(p, 'utf8');
          throw new PayloadError(`${format.encoder} returned no binary payload`);
        });
    }
  }

  private async call(format: Extract<PayloadFormat, { type: 'dynamic' }>, procedure: string, args: unknown[]): Promise<{ args: Args; kwargs: Kwargs }> {
    if (!this.caller) throw new PayloadError('no codec caller');
    try {
      return await this.caller(format.realm ?? this.realm, procedure, args);
    } catch (e) {
      throw new PayloadError(`${procedure} failed: ${(e as Error).message}`);
    }
  }
}

function argsDict(args: Args, kwargs: Kwargs): Dict {
  const o: Dict = {};
  if (args !== undefined) o.args = args;
  if (kwargs !== undefined) o.kwargs = kwargs;
  return o;
}

/** `{args, kwargs, exclude…}` (native payloads, dynamic decoders) → WAMP content. */
function content(obj: unknown, what: string): WampContent {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || obj instanceof Uint8Array) {
    throw new PayloadError(`${what} must be a dict with "args" and/or "kwargs"`);
  }
  const o = obj as Dict;
  if (o.args !== undefined && o.args !== null && !Array.isArray(o.args)) throw new PayloadError(`${what}: "args" must be a list`);
  if (o.kwargs !== undefined && o.kwargs !== null && (typeof o.kwargs !== 'object' || Array.isArray(o.kwargs))) {
    throw new PayloadError(`${what}: "kwargs" must be a dict`);
  }
  let receivers: Record<string, unknown> | undefined;
  for (const [key, field] of RECEIVER_KEYS) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) throw new PayloadError(`${what}: "${key}" must be a list`);
    (receivers ??= {})[field] = v;
  }
  return {
    args: (o.args ?? undefined) as Args,
    kwargs: (o.kwargs ?? undefined) as Kwargs,
    ...(receivers ? { receivers: receivers as Receivers } : {}),
  };
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
