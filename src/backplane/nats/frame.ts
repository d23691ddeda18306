/**
 * Frames exchanged between nodes, every one of them written and read here. On the wire a frame is
 * one MessagePack array [kind, meta, args?, kwargs?] whose meta map has short keys (below). No
 * NATS headers (they cost 40–55% of throughput, design/cluster.md §3). An event's, an invocation's,
 * a chunk's and an answer's frame carries the client's own payload bytes when it had them (see
 * the event frame), decoded on a receiving node only if a receiver there needs the values.
 *
 * Decoders check every field they read and throw `FrameError` naming it: a frame from an older or
 * foreign publisher on our subjects is refused and logged, never half-used.
 */
import { serializerById } from '../../serializers/index.js';
import type { Args, CancelMode, Content, Dict, Kwargs, Receivers } from '../../wamp/messages.js';
import type { EncodedPayload, SerializerId } from '../../wamp/payload.js';
import type { EventOut, Ident, NodeAdvert, NodeState, RemoteInvocation, StoredEntry, StoredTestament } from '../backplane.js';

export const FrameKind = {
  event: 1,
  invoke: 2,
  chunk: 3,
  cancel: 4,
  progress: 5,
  result: 6,
  error: 7,
  reject: 8,
  heartbeat: 9,
  bye: 10,
  /** Requests and answers that are not calls: meta queries, replay, a testament record. */
  meta: 11,
} as const;

/** A frame that is not what its subject carries; `message` names the field. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

const msgpack = serializerById('msgpack')!;

function encode(kind: number, meta: Dict, args?: Args, kwargs?: Kwargs): Uint8Array {
  const parts: unknown[] = [kind, meta];
  if (args !== undefined || kwargs !== undefined) parts.push(args ?? [], kwargs ?? {});
  return msgpack.encode(parts);
}

/**
 * A frame with content: its payload bytes as they are when it has them (meta `ps`, `pc`, the
 * bytes as the third element), else its values. `meta` is the caller's own, written to here.
 */
function encodeContent(kind: number, meta: Dict, c: Content): Uint8Array {
  if (c.ppt) meta.pp = c.ppt;
  const p = c.payload;
  if (p === undefined) return encode(kind, meta, c.args, c.kwargs);
  meta.ps = p.serializer;
  meta.pc = p.count;
  return msgpack.encode([kind, meta, p.message.subarray(p.start, p.end)]);
}

/** The content of a call frame as read: passed-through bytes with values decoded on first read, or the values. */
function contentOf(f: Raw): Content {
  const payload = passedThrough(f.meta, f.third);
  const ppt = f.meta.pp === undefined || f.meta.pp === null ? undefined : dict(f.meta, 'pp', 'payload transparency options');
  if (payload !== undefined) return new LazyContent(payload, ppt);
  return ppt ? { args: f.args, kwargs: f.kwargs, ppt } : { args: f.args, kwargs: f.kwargs };
}

/**
 * Bytes from another node whose Arguments and ArgumentsKw are decoded on first read, once (a
 * receiver on another serializer). A class, not an object with getters: one is made per call
 * frame read, on the hot path. A payload that does not decode throws `FrameError` there.
 */
export class LazyContent implements Content {
  private decoded: readonly [Args, Kwargs] | undefined;

  constructor(readonly payload: EncodedPayload, readonly ppt?: Dict) {}

  get args(): Args {
    return (this.decoded ??= decodePayload(this.payload))[0];
  }

  get kwargs(): Kwargs {
    return (this.decoded ??= decodePayload(this.payload))[1];
  }
}

/** An invocation read from a frame whose payload was passed through. */
export class LazyInvocation extends LazyContent implements RemoteInvocation {
  constructor(
    readonly realm: string, readonly procedure: string, readonly regId: number, readonly callee: number, readonly details: Dict,
    payload: EncodedPayload,
  ) {
    super(payload);
  }
}

interface Raw {
  readonly kind: number;
  readonly meta: Dict;
  readonly args: Args;
  readonly kwargs: Kwargs;
  /** The third element as it is (an event's passed-through payload is bytes there). */
  readonly third: unknown;
}

function decode(bytes: Uint8Array): Raw {
  let v: unknown;
  try {
    v = msgpack.decode(bytes);
  } catch (err) {
    throw new FrameError(`not MessagePack: ${(err as Error).message}`);
  }
  if (!Array.isArray(v) || typeof v[0] !== 'number' || !isDict(v[1])) throw new FrameError('not a [kind, meta, …] array');
  const args = Array.isArray(v[2]) && v[2].length > 0 ? (v[2] as unknown[]) : undefined;
  const kwargs = isDict(v[3]) && Object.keys(v[3]).length > 0 ? v[3] : undefined;
  return { kind: v[0] as number, meta: v[1], args, kwargs, third: v[2] };
}

function isDict(x: unknown): x is Dict {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

// ---- field readers: each names the field it refuses ---------------------------------------

function str(m: Dict, key: string, what: string): string {
  const v = m[key];
  if (typeof v !== 'string') throw new FrameError(`${what} (${key}) is not a string`);
  return v;
}

function num(m: Dict, key: string, what: string): number {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FrameError(`${what} (${key}) is not a number`);
  return v;
}

function dict(m: Dict, key: string, what: string): Dict {
  const v = m[key];
  if (v === undefined || v === null) return {};
  if (!isDict(v)) throw new FrameError(`${what} (${key}) is not a map`);
  return v;
}

function list<T>(m: Dict, key: string, what: string, item: 'number' | 'string'): T[] | undefined {
  const v = m[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === item)) throw new FrameError(`${what} (${key}) is not a list of ${item}s`);
  return v as T[];
}

function kindOf(raw: Raw, expected: readonly number[], subject: string): void {
  if (!expected.includes(raw.kind)) throw new FrameError(`kind ${raw.kind} does not belong on ${subject}`);
}

// ---- events (P.ev.…) -------------------------------------------------------------------------
// meta: o origin node, s its sequence, r realm, t topic, p publication, pub publisher,
// x exclude, el eligible, xa/xr exclude authid/authrole, ea/er eligible authid/authrole,
// mq PUBLISH.Options._mqtt (router/broker.ts); ps, pc: the serializer and element count (1 or 2)
// of a payload passed through as the publisher encoded it, the frame's third element then being
// those bytes (design/cluster.md §3: decoded on a receiving node only for a receiver on another
// serializer).

export interface EventFrame {
  readonly origin: string;
  readonly seq: number;
  readonly event: EventOut;
}

export function encodeEvent(origin: string, seq: number, ev: EventOut): Uint8Array {
  return encodeContent(FrameKind.event, { o: origin, s: seq, ...eventMeta(ev) }, ev);
}

function eventMeta(ev: EventOut): Dict {
  const meta: Dict = { r: ev.realm, t: ev.topic, p: ev.publication };
  if (ev.publisher) meta.pub = ev.publisher;
  const to = ev.receivers;
  if (to?.exclude) meta.x = to.exclude;
  if (to?.eligible) meta.el = to.eligible;
  if (to?.excludeAuthid) meta.xa = to.excludeAuthid;
  if (to?.excludeAuthrole) meta.xr = to.excludeAuthrole;
  if (to?.eligibleAuthid) meta.ea = to.eligibleAuthid;
  if (to?.eligibleAuthrole) meta.er = to.eligibleAuthrole;
  if (ev.mqtt) meta.mq = ev.mqtt;
  if (ev.ppt) meta.pp = ev.ppt;
  return meta;
}

export function decodeEvent(bytes: Uint8Array): EventFrame {
  const f = decode(bytes);
  kindOf(f, [FrameKind.event], 'an event subject');
  return { origin: str(f.meta, 'o', 'origin'), seq: num(f.meta, 's', 'sequence'), event: eventOf(f) };
}

function eventOf(f: Raw): EventOut {
  const m = f.meta;
  const head = {
    realm: str(m, 'r', 'realm'), topic: str(m, 't', 'topic'), publication: num(m, 'p', 'publication'),
    publisher: publisherOf(m), receivers: receiversOf(m),
    ...(m.mq === undefined || m.mq === null ? {} : { mqtt: dict(m, 'mq', 'mqtt attributes') }),
    ...(m.pp === undefined || m.pp === null ? {} : { ppt: dict(m, 'pp', 'payload transparency options') }),
  };
  const payload = passedThrough(m, f.third);
  return payload === undefined ? { ...head, args: f.args, kwargs: f.kwargs } : withLazyArguments(head, payload);
}

const SERIALIZER_IDS: readonly string[] = ['json', 'msgpack', 'cbor'];

function passedThrough(m: Dict, third: unknown): EncodedPayload | undefined {
  if (m.ps === undefined) return undefined;
  const serializer = m.ps;
  if (typeof serializer !== 'string' || !SERIALIZER_IDS.includes(serializer)) throw new FrameError('payload serializer (ps) is not json, msgpack or cbor');
  if (m.pc !== 1 && m.pc !== 2) throw new FrameError('payload element count (pc) is not 1 or 2');
  if (!(third instanceof Uint8Array)) throw new FrameError('payload (third element) is not bytes');
  return { serializer: serializer as SerializerId, message: third, start: 0, end: third.length, count: m.pc };
}

/**
 * The event with its payload as it came; Arguments and ArgumentsKw are decoded on first use (a
 * receiver on another serializer, the event history), once. A payload that does not decode throws
 * `FrameError` there.
 */
function withLazyArguments(head: Omit<EventOut, 'args' | 'kwargs' | 'payload'>, payload: EncodedPayload): EventOut {
  let decoded: readonly [Args, Kwargs] | undefined;
  const get = (): readonly [Args, Kwargs] => (decoded ??= decodePayload(payload));
  return {
    ...head,
    payload,
    get args() {
      return get()[0];
    },
    get kwargs() {
      return get()[1];
    },
  };
}

/** Arguments|ArgumentsKw from a payload's bytes, by its own serializer (a message [0, …] around them). */
function decodePayload(p: EncodedPayload): readonly [Args, Kwargs] {
  const ser = serializerById(p.serializer)!;
  let v: unknown;
  try {
    v = ser.decode(ser.encodeSpliced!([0], p));
  } catch (err) {
    throw new FrameError(`payload (third element) is not ${p.serializer}: ${(err as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 1 + p.count) throw new FrameError('payload (third element) is not Arguments|list followed by ArgumentsKw|dict');
  // A transparent payload (wamp/transparency.ts): one binary value in the Arguments slot.
  if (p.count === 1 && v[1] instanceof Uint8Array) return [[v[1]], undefined];
  if (!Array.isArray(v[1]) || (p.count === 2 && !isDict(v[2]))) {
    throw new FrameError('payload (third element) is not Arguments|list followed by ArgumentsKw|dict');
  }
  return [v[1] as unknown[], p.count === 2 ? (v[2] as Dict) : undefined];
}


// ---- a retained event (KV xbar_<cluster>_retained) and an event history entry (its stream) -------
// meta: the event's, and tm when it was stored (ms since the epoch), b the bytes it counts.

export function encodeStoredEvent(entry: StoredEntry): Uint8Array {
  return encode(FrameKind.event, { ...eventMeta(entry.event), tm: entry.time, b: entry.bytes }, entry.event.args, entry.event.kwargs);
}

export function decodeStoredEvent(bytes: Uint8Array): StoredEntry {
  const f = decode(bytes);
  kindOf(f, [FrameKind.event], 'a stored event');
  return { event: eventOf(f), time: num(f.meta, 'tm', 'time'), bytes: num(f.meta, 'b', 'bytes') };
}

function receiversOf(m: Dict): Receivers | undefined {
  if (!(m.x || m.el || m.xa || m.xr || m.ea || m.er)) return undefined;
  return {
    exclude: list<number>(m, 'x', 'exclude', 'number'), eligible: list<number>(m, 'el', 'eligible', 'number'),
    excludeAuthid: list<string>(m, 'xa', 'exclude_authid', 'string'), excludeAuthrole: list<string>(m, 'xr', 'exclude_authrole', 'string'),
    eligibleAuthid: list<string>(m, 'ea', 'eligible_authid', 'string'), eligibleAuthrole: list<string>(m, 'er', 'eligible_authrole', 'string'),
  };
}

function publisherOf(m: Dict): Ident | undefined {
  if (m.pub === undefined || m.pub === null) return undefined;
  const p = dict(m, 'pub', 'publisher');
  return { session: num(p, 'session', 'publisher session'), authid: str(p, 'authid', 'publisher authid'), authrole: str(p, 'authrole', 'publisher authrole') };
}

// ---- a node's inbox (P.nd.<node>.inv): invoke, chunk, cancel -------------------------------------
// meta: o caller's node, c its call number; invoke: r realm, u procedure, g registration id,
// cs callee session, d details; chunk: l last; cancel: m mode, w reason. An invoke and a chunk
// carry the caller's payload bytes as an event does (ps, pc, third element).

export type InboxFrame =
  | { readonly kind: typeof FrameKind.invoke; readonly origin: string; readonly call: number; readonly inv: RemoteInvocation }
  | { readonly kind: typeof FrameKind.chunk; readonly origin: string; readonly call: number; readonly last: boolean; readonly content: Content }
  | { readonly kind: typeof FrameKind.cancel; readonly origin: string; readonly call: number; readonly mode: CancelMode; readonly reason: string | undefined };

export function encodeInvoke(origin: string, call: number, inv: RemoteInvocation): Uint8Array {
  const meta: Dict = { o: origin, c: call, r: inv.realm, u: inv.procedure, g: inv.regId, cs: inv.callee, d: inv.details };
  return encodeContent(FrameKind.invoke, meta, inv);
}

export function encodeChunk(origin: string, call: number, last: boolean, content: Content): Uint8Array {
  return encodeContent(FrameKind.chunk, { o: origin, c: call, l: last }, content);
}

export function encodeCancel(origin: string, call: number, mode: CancelMode, reason: string | undefined): Uint8Array {
  return encode(FrameKind.cancel, { o: origin, c: call, m: mode, w: reason });
}

const CANCEL_MODES: readonly string[] = ['skip', 'kill', 'killnowait'] satisfies CancelMode[];

function invocationOf(f: Raw): RemoteInvocation {
  const m = f.meta;
  const realm = str(m, 'r', 'realm');
  const procedure = str(m, 'u', 'procedure');
  const regId = num(m, 'g', 'registration');
  const callee = num(m, 'cs', 'callee');
  const details = dict(m, 'd', 'details');
  const payload = passedThrough(m, f.third);
  if (payload) return new LazyInvocation(realm, procedure, regId, callee, details, payload);
  return { realm, procedure, regId, callee, details, args: f.args, kwargs: f.kwargs };
}

export function decodeInbox(bytes: Uint8Array): InboxFrame {
  const f = decode(bytes);
  kindOf(f, [FrameKind.invoke, FrameKind.chunk, FrameKind.cancel], 'a node inbox');
  const m = f.meta;
  const origin = str(m, 'o', 'origin');
  const call = num(m, 'c', 'call');
  switch (f.kind) {
    case FrameKind.invoke:
      return {
        kind: FrameKind.invoke, origin, call,
        inv: invocationOf(f),
      };
    case FrameKind.chunk:
      return { kind: FrameKind.chunk, origin, call, last: m.l === true, content: contentOf(f) };
    default: {
      const mode = str(m, 'm', 'cancel mode');
      if (!CANCEL_MODES.includes(mode)) throw new FrameError(`cancel mode (m) "${mode}" is not one of ${CANCEL_MODES.join(', ')}`);
      return { kind: FrameKind.cancel, origin, call, mode: mode as CancelMode, reason: typeof m.w === 'string' ? m.w : undefined };
    }
  }
}

// ---- answers to a call (P.nd.<node>.rep.<call>): progress, result, error, reject ----------------
// meta: error: e URI, d details; reject: w why ("gone" | "busy"). Progress, result and error
// carry the callee's payload bytes as an event does (ps, pc, third element).

export type ReplyFrame =
  | { readonly kind: typeof FrameKind.progress | typeof FrameKind.result; readonly content: Content }
  | { readonly kind: typeof FrameKind.error; readonly uri: string; readonly details: Dict; readonly content: Content }
  | { readonly kind: typeof FrameKind.reject; readonly why: 'gone' | 'busy' };

export function encodeProgress(answer: Content): Uint8Array {
  return encodeContent(FrameKind.progress, {}, answer);
}

export function encodeResult(answer: Content): Uint8Array {
  return encodeContent(FrameKind.result, {}, answer);
}

export function encodeError(uri: string, details: Dict, answer: Content): Uint8Array {
  return encodeContent(FrameKind.error, { e: uri, d: details }, answer);
}

export function encodeReject(why: 'gone' | 'busy'): Uint8Array {
  return encode(FrameKind.reject, { w: why });
}

export function decodeReply(bytes: Uint8Array): ReplyFrame {
  const f = decode(bytes);
  kindOf(f, [FrameKind.progress, FrameKind.result, FrameKind.error, FrameKind.reject], 'a reply subject');
  switch (f.kind) {
    case FrameKind.progress:
    case FrameKind.result:
      return { kind: f.kind, content: contentOf(f) };
    case FrameKind.error:
      return { kind: FrameKind.error, uri: str(f.meta, 'e', 'error URI'), details: dict(f.meta, 'd', 'details'), content: contentOf(f) };
    default:
      return { kind: FrameKind.reject, why: f.meta.w === 'busy' ? 'busy' : 'gone' };
  }
}

// ---- heartbeats (P.hb) ---------------------------------------------------------------------------
// meta: o the node; with the node directory's advert (absent in a bye): u start time, a addresses,
// l [sessions, connections, cpu %, queued bytes], st state.

export interface HeartbeatFrame {
  readonly node: string;
  /** The node leaves the cluster (it stops). */
  readonly bye: boolean;
  /** What the node advertises (node directory); undefined in a bye. */
  readonly advert?: NodeAdvert;
}

/** Bounds of an advert as read: a frame beyond them is refused, so the directory stays small. */
const MAX_ADDRESSES = 32;
const MAX_ADDRESS_LENGTH = 512;
const STATES: readonly NodeState[] = ['ready', 'busy', 'full', 'stopping'];

export function encodeHeartbeat(node: string, bye = false, advert?: NodeAdvert): Uint8Array {
  if (bye || !advert) return encode(bye ? FrameKind.bye : FrameKind.heartbeat, { o: node });
  const l = advert.load;
  return encode(FrameKind.heartbeat, { o: node, u: advert.startedAt, a: advert.addresses, l: [l.sessions, l.connections, Math.round(l.cpu), l.queuedBytes], st: advert.state });
}

export function decodeHeartbeat(bytes: Uint8Array): HeartbeatFrame {
  const f = decode(bytes);
  kindOf(f, [FrameKind.heartbeat, FrameKind.bye], 'the heartbeat subject');
  const node = str(f.meta, 'o', 'node');
  if (f.kind === FrameKind.bye) return { node, bye: true };
  const m = f.meta;
  if (m.a === undefined) return { node, bye: false };
  const addresses = list<string>(m, 'a', 'addresses', 'string') ?? [];
  if (addresses.length > MAX_ADDRESSES || addresses.some((a) => a.length > MAX_ADDRESS_LENGTH)) {
    throw new FrameError(`addresses (a) are more than ${MAX_ADDRESSES} or longer than ${MAX_ADDRESS_LENGTH} characters`);
  }
  const l = list<number>(m, 'l', 'load', 'number');
  if (!l || l.length !== 4 || !l.every((x) => Number.isFinite(x) && x >= 0)) throw new FrameError('load (l) is not [sessions, connections, cpu, queued bytes] of numbers >= 0');
  const state = STATES.find((x) => x === m.st);
  if (!state) throw new FrameError(`state (st) is not one of ${STATES.join(', ')}`);
  return { node, bye: false, advert: { startedAt: num(m, 'u', 'start time'), addresses, load: { sessions: l[0]!, connections: l[1]!, cpu: l[2]!, queuedBytes: l[3]! }, state } };
}

// ---- meta queries (P.meta.<realm>): q the query → a the answer -----------------------------------

export function encodeQuery(query: Dict): Uint8Array {
  return encode(FrameKind.meta, { q: query });
}

export function decodeQuery(bytes: Uint8Array): Dict {
  return metaMap(bytes, 'q', 'query', 'a meta query subject');
}

export function encodeAnswer(answer: Dict): Uint8Array {
  return encode(FrameKind.meta, { a: answer });
}

export function decodeAnswer(bytes: Uint8Array): Dict {
  return metaMap(bytes, 'a', 'answer', 'a meta query answer');
}

/** The map under `key` of a kind-11 frame. */
function metaMap(bytes: Uint8Array, key: string, what: string, subject: string): Dict {
  const f = decode(bytes);
  kindOf(f, [FrameKind.meta], subject);
  const v = f.meta[key];
  if (!isDict(v)) throw new FrameError(`${what} (${key}) is not a map`);
  return v;
}

// ---- reconnect replay (P.replay) -----------------------------------------------------------------
// ask: since (ms since epoch), filters (NATS subject filters), after ({node: last seq seen});
// answer: o the answering node, frames (its recent event frames, as sent).

export interface ReplayAsk {
  readonly since: number;
  readonly filters: readonly string[];
  readonly after: Readonly<Record<string, number>>;
}

export function encodeReplayAsk(ask: ReplayAsk): Uint8Array {
  return encode(FrameKind.meta, { since: ask.since, filters: ask.filters, after: ask.after });
}

export function decodeReplayAsk(bytes: Uint8Array): ReplayAsk {
  const f = decode(bytes);
  kindOf(f, [FrameKind.meta], 'the replay subject');
  const after = dict(f.meta, 'after', 'sequences seen');
  for (const [node, seq] of Object.entries(after)) {
    if (typeof seq !== 'number') throw new FrameError(`sequence seen (after) of ${node} is not a number`);
  }
  return { since: num(f.meta, 'since', 'since'), filters: list<string>(f.meta, 'filters', 'filters', 'string') ?? [], after: after as Record<string, number> };
}

export function encodeReplayAnswer(origin: string, frames: readonly Uint8Array[]): Uint8Array {
  return encode(FrameKind.meta, { o: origin, frames });
}

export function decodeReplayAnswer(bytes: Uint8Array): { origin: string; frames: Uint8Array[] } {
  const f = decode(bytes);
  kindOf(f, [FrameKind.meta], 'a replay answer');
  const frames = f.meta.frames ?? [];
  if (!Array.isArray(frames) || !frames.every((x) => x instanceof Uint8Array)) throw new FrameError('frames is not a list of byte strings');
  return { origin: str(f.meta, 'o', 'the answering node'), frames: frames as Uint8Array[] };
}

// ---- a session's testaments (KV xbar_<cluster>_testament) ----------------------------------------
// meta: r realm, t [[topic, args, kwargs, options], …] in publication order.

export interface TestamentRecord {
  readonly realm: string;
  readonly testaments: readonly StoredTestament[];
}

export function encodeTestaments(realm: string, testaments: readonly StoredTestament[]): Uint8Array {
  return encode(FrameKind.meta, { r: realm, t: testaments.map((t) => [t.topic, t.args ?? [], t.kwargs ?? {}, t.options]) });
}

export function decodeTestaments(bytes: Uint8Array): TestamentRecord {
  const f = decode(bytes);
  kindOf(f, [FrameKind.meta], 'a testament record');
  const t = f.meta.t;
  if (!Array.isArray(t)) throw new FrameError('testaments (t) is not a list');
  const testaments = t.map((x: unknown, i): StoredTestament => {
    if (!Array.isArray(x) || typeof x[0] !== 'string' || !Array.isArray(x[1]) || !isDict(x[2]) || !isDict(x[3])) {
      throw new FrameError(`testament ${i} is not [topic, args, kwargs, options]`);
    }
    return { topic: x[0], args: x[1] as unknown[], kwargs: x[2], options: x[3] };
  });
  return { realm: str(f.meta, 'r', 'realm'), testaments };
}
