/**
 * Call frames of the in-node backplane (invoke, chunk, cancel; progress, result, error, reject),
 * written straight into a wire message (wire.ts) with a fixed binary layout instead of the NATS
 * backplane's MessagePack `[kind, meta map, …]` (nats/frame.ts): no map keys to write and read
 * back, one allocation per message, and a passed-through payload is the message's tail, read as a
 * view. They are what crosses between workers on every call, so they are the hot path; the
 * decoded frames are nats/frame.ts's types, so the rest of the backplane does not tell them apart.
 *
 * Body layout (after the wire header): u8 kind, then
 *   invoke    str origin · f64 call · str realm · str procedure · f64 registration · f64 callee · map details · content
 *   chunk     str origin · f64 call · u8 last · content
 *   cancel    str origin · f64 call · str mode · u8 has reason · [str reason]
 *   progress, result   content
 *   error     str uri · map details · content
 *   reject    u8 why (0 gone, 1 busy)
 * str: u32 length · UTF-8; map: u32 length · MessagePack [map] (length 0: empty); content: map payload
 * transparency options · u8 form, form 0: u32 length · MessagePack [args, kwargs] (length 0: none),
 * form 1: u8 serializer (0 json, 1 msgpack, 2 cbor) · u8 element count · the payload bytes to the end.
 * Numbers are ≤ 2^53 (session, registration and call ids), so f64 carries them exactly.
 */
import { serializerById } from '../../serializers/index.js';
import type { Args, CancelMode, Content, Dict, Kwargs } from '../../wamp/messages.js';
import type { EncodedPayload, SerializerId } from '../../wamp/payload.js';
import type { RemoteInvocation } from '../backplane.js';
import { FrameError, FrameKind, type InboxFrame, LazyContent, LazyInvocation, type ReplyFrame } from '../nats/frame.js';
import { type OpCode, Op } from './wire.js';

const msgpack = serializerById('msgpack')!;
const SERIALIZERS: readonly SerializerId[] = ['json', 'msgpack', 'cbor'];
const CANCEL_MODES: readonly string[] = ['skip', 'kill', 'killnowait'] satisfies CancelMode[];
const EMPTY = new Uint8Array(0);

/** Bytes of a map field: empty for an empty or absent one (the common case: no MessagePack at all). */
function mapBytes(d: Dict | undefined): Uint8Array {
  if (d === undefined) return EMPTY;
  // The serializer writes messages (arrays): a map is written as [map].
  for (const _ in d) return msgpack.encode([d]);
  return EMPTY;
}

/** A content's fields, measured before they are written. */
interface ContentParts {
  readonly ppt: Uint8Array;
  readonly values: Uint8Array;
  readonly payload: EncodedPayload | undefined;
  readonly size: number;
}

function contentParts(c: Content): ContentParts {
  const ppt = mapBytes(c.ppt);
  const p = c.payload;
  if (p !== undefined) return { ppt, values: EMPTY, payload: p, size: 4 + ppt.length + 1 + 2 + (p.end - p.start) };
  const values = c.args !== undefined || c.kwargs !== undefined ? msgpack.encode([c.args ?? [], c.kwargs ?? {}]) : EMPTY;
  return { ppt, values, payload: undefined, size: 4 + ppt.length + 1 + 4 + values.length };
}

/** Writes one wire message: its header (u32 length · u8 op · u16 address length · address), then the body. */
class MessageOut {
  readonly buf: Buffer;
  at: number;

  constructor(op: OpCode, address: string, bodySize: number) {
    const addressLength = Buffer.byteLength(address);
    this.buf = Buffer.allocUnsafe(7 + addressLength + bodySize);
    this.buf.writeUInt32BE(3 + addressLength + bodySize, 0);
    this.buf[4] = op;
    this.buf.writeUInt16BE(addressLength, 5);
    this.buf.write(address, 7, 'utf8');
    this.at = 7 + addressLength;
  }

  u8(v: number): void {
    this.buf[this.at++] = v;
  }

  f64(v: number): void {
    this.buf.writeDoubleBE(v, this.at);
    this.at += 8;
  }

  str(s: string, length: number): void {
    this.buf.writeUInt32BE(length, this.at);
    this.buf.write(s, this.at + 4, length, 'utf8');
    this.at += 4 + length;
  }

  bytes(b: Uint8Array): void {
    this.buf.writeUInt32BE(b.length, this.at);
    this.buf.set(b, this.at + 4);
    this.at += 4 + b.length;
  }

  content(c: ContentParts): void {
    this.bytes(c.ppt);
    const p = c.payload;
    if (p === undefined) {
      this.u8(0);
      this.bytes(c.values);
      return;
    }
    this.u8(1);
    this.u8(SERIALIZERS.indexOf(p.serializer));
    this.u8(p.count);
    this.buf.set(p.message.subarray(p.start, p.end), this.at);
    this.at += p.end - p.start;
  }
}

const strSize = (length: number) => 4 + length;

export function invokeMessage(node: string, origin: string, call: number, inv: RemoteInvocation): Buffer {
  const o = Buffer.byteLength(origin), r = Buffer.byteLength(inv.realm), u = Buffer.byteLength(inv.procedure);
  const details = mapBytes(inv.details);
  const c = contentParts(inv);
  const out = new MessageOut(Op.inbox, node, 1 + strSize(o) + 8 + strSize(r) + strSize(u) + 16 + 4 + details.length + c.size);
  out.u8(FrameKind.invoke);
  out.str(origin, o);
  out.f64(call);
  out.str(inv.realm, r);
  out.str(inv.procedure, u);
  out.f64(inv.regId);
  out.f64(inv.callee);
  out.bytes(details);
  out.content(c);
  return out.buf;
}

export function chunkMessage(node: string, origin: string, call: number, last: boolean, content: Content): Buffer {
  const o = Buffer.byteLength(origin);
  const c = contentParts(content);
  const out = new MessageOut(Op.inbox, node, 1 + strSize(o) + 8 + 1 + c.size);
  out.u8(FrameKind.chunk);
  out.str(origin, o);
  out.f64(call);
  out.u8(last ? 1 : 0);
  out.content(c);
  return out.buf;
}

export function cancelMessage(node: string, origin: string, call: number, mode: CancelMode, reason: string | undefined): Buffer {
  const o = Buffer.byteLength(origin), m = Buffer.byteLength(mode), w = reason === undefined ? -1 : Buffer.byteLength(reason);
  const out = new MessageOut(Op.inbox, node, 1 + strSize(o) + 8 + strSize(m) + 1 + (w < 0 ? 0 : strSize(w)));
  out.u8(FrameKind.cancel);
  out.str(origin, o);
  out.f64(call);
  out.str(mode, m);
  out.u8(w < 0 ? 0 : 1);
  if (reason !== undefined) out.str(reason, w);
  return out.buf;
}

/** A progress or result message to `address` (`origin\0call`). */
export function answerMessage(address: string, kind: typeof FrameKind.progress | typeof FrameKind.result, answer: Content): Buffer {
  const c = contentParts(answer);
  const out = new MessageOut(Op.reply, address, 1 + c.size);
  out.u8(kind);
  out.content(c);
  return out.buf;
}

export function errorMessage(address: string, uri: string, details: Dict, answer: Content): Buffer {
  const e = Buffer.byteLength(uri);
  const d = mapBytes(details);
  const c = contentParts(answer);
  const out = new MessageOut(Op.reply, address, 1 + strSize(e) + 4 + d.length + c.size);
  out.u8(FrameKind.error);
  out.str(uri, e);
  out.bytes(d);
  out.content(c);
  return out.buf;
}

export function rejectMessage(address: string, why: 'gone' | 'busy'): Buffer {
  const out = new MessageOut(Op.reply, address, 2);
  out.u8(FrameKind.reject);
  out.u8(why === 'busy' ? 1 : 0);
  return out.buf;
}

// ---- reading ------------------------------------------------------------------------------------

/** Reads a body field by field; any read past its end, or a field that is not what it must be, throws FrameError. */
class BodyIn {
  private at = 0;

  constructor(private readonly b: Buffer) {}

  private need(n: number, what: string): void {
    if (this.at + n > this.b.length) throw new FrameError(`call frame ends inside ${what}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.b[this.at++]!;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.b.readDoubleBE(this.at);
    this.at += 8;
    if (!Number.isSafeInteger(v) || v < 0) throw new FrameError(`${what} is not an id`);
    return v;
  }

  private span(what: string): [number, number] {
    this.need(4, what);
    const n = this.b.readUInt32BE(this.at);
    this.at += 4;
    this.need(n, what);
    const start = this.at;
    this.at += n;
    return [start, this.at];
  }

  str(what: string): string {
    const [s, e] = this.span(what);
    return this.b.toString('utf8', s, e);
  }

  map(what: string): Dict | undefined {
    const [s, e] = this.span(what);
    if (s === e) return undefined;
    let v: unknown;
    try {
      v = (msgpack.decode(this.b.subarray(s, e)) as unknown[])[0];
    } catch (err) {
      throw new FrameError(`${what} is not MessagePack: ${(err as Error).message}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw new FrameError(`${what} is not a map`);
    return v as Dict;
  }

  /** The content's fields: passed-through bytes (a view of the body's tail) or values. */
  content(): { payload: EncodedPayload; ppt: Dict | undefined } | { args: Args; kwargs: Kwargs; ppt: Dict | undefined } {
    const ppt = this.map('payload transparency options');
    const form = this.u8('content form');
    if (form === 1) {
      const serializer = SERIALIZERS[this.u8('payload serializer')];
      if (serializer === undefined) throw new FrameError('payload serializer is not json, msgpack or cbor');
      const count = this.u8('payload element count');
      if (count !== 1 && count !== 2) throw new FrameError('payload element count is not 1 or 2');
      const payload: EncodedPayload = { serializer, message: this.b, start: this.at, end: this.b.length, count };
      this.at = this.b.length;
      return { payload, ppt };
    }
    if (form !== 0) throw new FrameError('content form is not 0 or 1');
    const [s, e] = this.span('arguments');
    this.end();
    if (s === e) return { args: undefined, kwargs: undefined, ppt };
    let v: unknown;
    try {
      v = msgpack.decode(this.b.subarray(s, e));
    } catch (err) {
      throw new FrameError(`arguments are not MessagePack: ${(err as Error).message}`);
    }
    if (!Array.isArray(v) || v.length !== 2 || !Array.isArray(v[0]) || typeof v[1] !== 'object' || v[1] === null || Array.isArray(v[1])) {
      throw new FrameError('arguments are not [Arguments|list, ArgumentsKw|dict]');
    }
    const args = v[0].length > 0 ? (v[0] as unknown[]) : undefined;
    const kwargs = Object.keys(v[1] as object).length > 0 ? (v[1] as Dict) : undefined;
    return { args, kwargs, ppt };
  }

  end(): void {
    if (this.at !== this.b.length) throw new FrameError('call frame has bytes after its last field');
  }
}

function contentOf(f: ReturnType<BodyIn['content']>): Content {
  if ('payload' in f) return new LazyContent(f.payload, f.ppt);
  return f.ppt ? { args: f.args, kwargs: f.kwargs, ppt: f.ppt } : { args: f.args, kwargs: f.kwargs };
}

export function readInbox(body: Buffer): InboxFrame {
  const r = new BodyIn(body);
  const kind = r.u8('kind');
  if (kind !== FrameKind.invoke && kind !== FrameKind.chunk && kind !== FrameKind.cancel) throw new FrameError(`kind ${kind} is not an inbox frame`);
  const origin = r.str('origin');
  const call = r.f64('call');
  if (kind === FrameKind.invoke) {
    const realm = r.str('realm');
    const procedure = r.str('procedure');
    const regId = r.f64('registration');
    const callee = r.f64('callee');
    const details = r.map('details') ?? {};
    const c = r.content();
    const inv: RemoteInvocation = 'payload' in c
      ? new LazyInvocation(realm, procedure, regId, callee, details, c.payload)
      : { realm, procedure, regId, callee, details, args: c.args, kwargs: c.kwargs };
    return { kind, origin, call, inv };
  }
  if (kind === FrameKind.chunk) {
    const last = r.u8('last') === 1;
    return { kind, origin, call, last, content: contentOf(r.content()) };
  }
  const mode = r.str('cancel mode');
  if (!CANCEL_MODES.includes(mode)) throw new FrameError(`cancel mode "${mode}" is not one of ${CANCEL_MODES.join(', ')}`);
  const reason = r.u8('reason flag') === 1 ? r.str('reason') : undefined;
  r.end();
  return { kind, origin, call, mode: mode as CancelMode, reason };
}

export function readReply(body: Buffer): ReplyFrame {
  const r = new BodyIn(body);
  const kind = r.u8('kind');
  switch (kind) {
    case FrameKind.progress:
    case FrameKind.result:
      return { kind, content: contentOf(r.content()) };
    case FrameKind.error: {
      const uri = r.str('error URI');
      const details = r.map('details') ?? {};
      return { kind, uri, details, content: contentOf(r.content()) };
    }
    case FrameKind.reject: {
      const why = r.u8('why');
      r.end();
      return { kind, why: why === 1 ? 'busy' : 'gone' };
    }
    default:
      throw new FrameError(`kind ${kind} is not a reply frame`);
  }
}
