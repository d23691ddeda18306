/**
 * The in-node backplane: the workers of one `xbar start --workers N` node are the members of a
 * cluster whose "NATS" is the hub in the primary process (hub.ts), reached over a Unix socket.
 * Every worker is a node of the backplane contract (backplane.ts): events to the workers with
 * interest, in publisher order (one socket each way, one hub); one registry whose changes every
 * worker hears in the hub's order; calls to a callee on another worker straight to that worker
 * (peer-links.ts), the hub off their path; meta queries answered by every other worker; session
 * ids in the worker's hub-given slot.
 *
 * Limit: the hub is the node — when the primary process dies the workers are cut off (health
 * `isolated`, publications `unavailable`), and `onLost` is told so the worker can exit with it.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { ErrorUri } from '../../wamp/errors.js';
import type { MatchPolicy } from '../../wamp/uri.js';
import { type CancelMode, type Content, type Dict, type InvokePolicy, textContent } from '../../wamp/messages.js';
import type {
  Backplane, BackplaneHandlers, BackplaneHealth, CallHandle, ClusterCallee, ClusterReg, EventOut, HistoryBounds, HistoryLog,
  NodeAdvert, NodeEntry, RegisterOutcome, RemoteInvocation, ReplyPort, ReplySink, StoredEntry, StoredTestament,
} from '../backplane.js';
import { NodeDirectory } from '../node-directory.js';
import { MemoryRetainedTable } from '../retained-memory.js';
import { SessionIds } from '../session-ids.js';
import {
  decodeEvent, decodeHeartbeat, decodeStoredEvent, decodeTestaments, encodeEvent, encodeHeartbeat, encodeStoredEvent, encodeTestaments, FrameKind,
} from '../nats/frame.js';
import { answerMessage, cancelMessage, chunkMessage, errorMessage, invokeMessage, readInbox, readReply, rejectMessage } from './call-frames.js';
import { PeerLinks, type PeerLink } from './peer-links.js';
import { decodeControl, encodeControl, encodeMessage, MessageWriter, Op, readMessages, type WireMessage } from './wire.js';

export interface HubBackplaneOptions {
  /** The hub's Unix socket. */
  readonly path: string;
  /** This worker's node id (unique among the hub's members); default a random one. */
  readonly name?: string;
  /** How often this worker's advert is sent (node directory). */
  readonly advertMs?: number;
  /** The hub went away while this worker was not stopping. */
  readonly onLost?: () => void;
  /**
   * Calls to another worker's callees go over a socket straight to that worker (peer-links.ts),
   * not through the hub; default true. False: every call is relayed by the hub.
   */
  readonly direct?: boolean;
}

const SLOTS = 1024;
const NO_HANDLE: CallHandle = { chunk: () => undefined, cancel: () => undefined };

interface Welcome {
  readonly slot: number;
  readonly members: string[];
  /** The direct-call socket of each member that has one. */
  readonly peers: [string, string][];
  readonly registry: ClusterReg[];
  readonly retained: Uint8Array[];
  readonly adverts: [string, Uint8Array][];
  readonly error?: string;
}

export class HubBackplane implements Backplane {
  readonly nodeId: string;
  readonly retained: HubRetained;
  readonly history: HubHistory;
  private socket: Socket | undefined;
  private out: MessageWriter | undefined;
  private handlers: BackplaneHandlers | undefined;
  private slot = 0;
  private readonly sessionIds = new SessionIds(() => Math.floor(Math.random() * 2 ** 43) * SLOTS + this.slot + 1);
  private readonly others = new Map<string, number>();
  /** Where each other worker takes direct calls. */
  private readonly peerPaths = new Map<string, string>();
  private links: PeerLinks | undefined;
  private readonly nodes: NodeDirectory;
  /** Requests waiting for the hub's answer; `now` runs as the answer is read, before any later message. */
  private readonly requests = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; now?: (v: unknown) => void }>();
  private requestSeq = 0;
  private eventSeq = 0;
  private callSeq = 0;
  /** Calls this worker made to another's callee; `link`: the direct link it went over (else the hub). */
  private readonly pending = new Map<number, { readonly node: string; readonly sink: ReplySink; readonly link: PeerLink | undefined }>();
  /** Invocations from other workers being served here; `link`: the direct link they came over. */
  private readonly served = new Map<string, { readonly origin: string; readonly handle: CallHandle; readonly link: PeerLink | undefined }>();
  private advertTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private connected = false;

  constructor(private readonly o: HubBackplaneOptions, private readonly log: Logger) {
    this.nodeId = o.name ?? `worker-${randomBytes(4).toString('hex')}`;
    this.nodes = new NodeDirectory(this.nodeId);
    this.retained = new HubRetained((fields, now) => this.request(fields, now));
    this.history = new HubHistory((fields, now) => this.request(fields, now));
  }

  async start(handlers: BackplaneHandlers): Promise<void> {
    this.handlers = handlers;
    const socket = connect(this.o.path);
    socket.setNoDelay?.(true);
    this.socket = socket;
    this.out = new MessageWriter((d) => socket.write(d));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.connected = true;
    if (this.o.direct !== false) await this.listenDirect();
    readMessages(socket, (m) => this.received(m), (err) => this.log.error({ err }, 'backplane: the hub sent what this worker cannot read'));
    socket.on('close', () => this.lost());
    const hello = ['hello', this.nodeId, this.links?.path ?? null];
    const welcome = (await this.request(hello, (v) => this.welcomed(v as Welcome, handlers))) as Welcome;
    if (welcome.error) throw new Error(welcome.error);
  }

  /** The hub's state as this worker joins, applied before anything the hub sent after it. */
  private welcomed(welcome: Welcome, handlers: BackplaneHandlers): void {
    if (welcome.error) return;
    this.slot = welcome.slot;
    for (const name of welcome.members) if (name !== this.nodeId) this.others.set(name, Date.now());
    for (const [name, at] of welcome.peers ?? []) if (name !== this.nodeId) this.peerPaths.set(name, at);
    for (const bytes of welcome.retained) this.retained.apply(decodeStoredEvent(bytes));
    for (const [, bytes] of welcome.adverts) this.heardAdvert(bytes);
    for (const reg of welcome.registry.map(asRegistration)) handlers.registryChanged(reg.realm, reg.uri, reg.match, reg);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.advertTimer);
    this.links?.close();
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    this.out?.flush();
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
    });
  }

  health(): BackplaneHealth {
    return this.connected ? 'ready' : 'isolated';
  }

  members(): ReadonlyMap<string, number> {
    return new Map([[this.nodeId, Date.now()], ...this.others]);
  }

  advertise(source: () => NodeAdvert): void {
    this.nodes.advertise(source);
    const send = () => this.connected && this.send(['advert', encodeHeartbeat(this.nodeId, false, source())]);
    send();
    clearInterval(this.advertTimer);
    this.advertTimer = setInterval(send, this.o.advertMs ?? 1000);
    this.advertTimer.unref();
  }

  directory(): readonly NodeEntry[] {
    return this.nodes.list();
  }

  newSessionId(): number {
    return this.sessionIds.next();
  }

  releaseSessionId(id: number): void {
    this.sessionIds.release(id);
  }

  holdSubscription(realm: string, uri: string, match: MatchPolicy): Promise<boolean> {
    return this.request(['hold', realm, uri, match]).then((v) => v === true, () => false);
  }

  releaseSubscription(realm: string, uri: string, match: MatchPolicy): Promise<boolean> {
    return this.request(['release', realm, uri, match]).then((v) => v === true, () => false);
  }

  async addInterest(realm: string, uri: string, match: MatchPolicy): Promise<void> {
    await this.request(['interest', realm, uri, match]);
  }

  removeInterest(realm: string, uri: string, match: MatchPolicy): void {
    if (this.connected) this.out!.send(encodeControl(['uninterest', realm, uri, match]));
  }

  publish(ev: EventOut): 'sent' | 'local-only' | 'unavailable' {
    if (!this.connected) return 'unavailable';
    if (this.others.size === 0) return 'local-only';
    this.out!.send(encodeMessage(Op.event, `${ev.realm}\u0000${ev.topic}`, encodeEvent(this.nodeId, ++this.eventSeq, ev)));
    return 'sent';
  }

  async confirm(): Promise<void> {
    await this.request(['ping']);
  }

  async register(realm: string, uri: string, match: MatchPolicy, invoke: InvokePolicy, callee: ClusterCallee, force: boolean): Promise<RegisterOutcome> {
    return (await this.request(['register', realm, uri, match, invoke, callee, force])) as RegisterOutcome;
  }

  unregister(realm: string, uri: string, match: MatchPolicy, session: number): Promise<boolean> {
    return this.request(['unregister', realm, uri, match, session]).then((v) => v === true, () => false);
  }

  /** The hub sends every registry change before it answers: after a round trip the replica is current. */
  async refresh(): Promise<void> {
    await this.request(['ping']);
  }

  keepTestaments(realm: string, session: number, testaments: readonly StoredTestament[]): void {
    this.send(['keep', realm, session, testaments.length > 0 ? encodeTestaments(realm, testaments) : null]);
  }

  /** The hub hands a worker's testaments on only when the worker is gone: a live one's are its own. */
  async releaseTestaments(realm: string, session: number): Promise<boolean> {
    await this.request(['unkeep', realm, session]).catch(() => undefined);
    return true;
  }

  async query(realm: string, query: Dict, maxWaitMs = 500): Promise<Dict[]> {
    if (this.others.size === 0) return [];
    return (await this.request(['query', realm, query, maxWaitMs]).catch(() => [])) as Dict[];
  }

  invoke(node: string, inv: RemoteInvocation, sink: ReplySink): CallHandle {
    if (!this.connected || !this.others.has(node)) {
      queueMicrotask(() => sink.undelivered('gone'));
      return NO_HANDLE;
    }
    const call = ++this.callSeq;
    const self = this.nodeId;
    const at = this.peerPaths.get(node);
    const link = at !== undefined && this.links && !this.stopping ? this.links.to(node, at) : undefined;
    const out = link?.out ?? this.out!;
    this.pending.set(call, { node, sink, link });
    out.send(invokeMessage(node, self, call, inv));
    return {
      chunk: (content: Content, last: boolean) => {
        if (this.pending.has(call)) out.send(chunkMessage(node, self, call, last, content));
      },
      cancel: (mode: CancelMode, reason?: string) => {
        // skip: the callee is not told; its late answer finds no pending call here and is dropped.
        if (mode !== 'skip' && this.pending.has(call)) out.send(cancelMessage(node, self, call, mode, reason));
        if (mode !== 'kill') this.pending.delete(call);
      },
    };
  }

  // ---- from the hub ---------------------------------------------------------------------------

  /** One message from the hub; a message that fails (a bad frame, a failing handler) is logged and the link goes on. */
  private received(m: WireMessage): void {
    try {
      this.dispatch(m);
    } catch (err) {
      this.log.error({ err, op: m.op }, 'backplane: a message from the hub could not be handled; it is dropped');
    }
  }

  private dispatch(m: WireMessage): void {
    switch (m.op) {
      case Op.event:
        return this.handlers?.event(decodeEvent(m.body).event);
      case Op.inbox:
        return this.inbox(m.body, undefined);
      case Op.reply:
        return this.reply(Number(m.address.slice(m.address.indexOf('\u0000') + 1)), m.body);
      case Op.control:
        return this.control(decodeControl(m.body));
    }
  }

  private control(f: unknown[]): void {
    const h = this.handlers;
    switch (f[0]) {
      case 'ans': {
        const r = this.requests.get(f[1] as number);
        this.requests.delete(f[1] as number);
        r?.now?.(f[2]);
        return r?.resolve(f[2]);
      }
      case 'changed':
        return h?.registryChanged(f[1] as string, f[2] as string, f[3] as MatchPolicy, f[4] ? asRegistration(f[4] as ClusterReg) : undefined);
      case 'retained': {
        const [realm, topic, bytes] = f.slice(1) as [string, string, Uint8Array | null];
        return bytes ? this.retained.apply(decodeStoredEvent(bytes)) : this.retained.applyDelete(realm, topic);
      }
      case 'appended':
        return this.history.appended(f[1] as string, f[2] as number, decodeStoredEvent(f[3] as Uint8Array));
      case 'joined':
        if (f[1] === this.nodeId) return;
        this.others.set(f[1] as string, Date.now());
        if (typeof f[2] === 'string') this.peerPaths.set(f[1] as string, f[2]);
        return;
      case 'down':
        return this.down(f[1] as string);
      case 'advert':
        return this.heardAdvert(f[2] as Uint8Array);
      case 'ask': {
        let answer: Dict | undefined;
        try {
          answer = h?.metaQuery(f[2] as string, f[3] as Dict);
        } catch (err) {
          this.log.error({ err }, 'answering another worker\'s meta query failed');
        }
        return this.send(['answer', f[1], answer ?? null]);
      }
      case 'orphaned': {
        const record = decodeTestaments(f[1] as Uint8Array);
        return h?.orphanedTestaments(record.realm, record.testaments);
      }
      case 'nobody': {
        const frame = readInbox(Buffer.from(f[1] as Uint8Array));
        if (frame.kind !== FrameKind.invoke) return;
        const p = this.pending.get(frame.call);
        this.pending.delete(frame.call);
        return p?.sink.undelivered('gone');
      }
    }
  }

  private heardAdvert(bytes: Uint8Array): void {
    const hb = decodeHeartbeat(bytes);
    if (hb.advert && hb.node !== this.nodeId) this.nodes.update(hb.node, hb.advert);
  }

  private down(node: string): void {
    if (!this.others.delete(node)) return;
    this.peerPaths.delete(node);
    this.links?.drop(node);
    this.nodes.remove(node);
    for (const [call, p] of this.pending) {
      if (p.node !== node) continue;
      this.pending.delete(call);
      p.sink.error(ErrorUri.canceled, textContent('callee node lost'), {});
    }
    for (const [key, s] of this.served) {
      if (s.origin !== node) continue;
      this.served.delete(key);
      s.handle.cancel('killnowait');
    }
    this.handlers?.memberDown(node);
  }

  private reply(call: number, body: Buffer): void {
    const p = this.pending.get(call);
    if (!p) return; // answered, canceled or lost already: a late answer is dropped
    const f = readReply(body);
    if (f.kind === FrameKind.progress) return p.sink.progress(f.content);
    this.pending.delete(call);
    switch (f.kind) {
      case FrameKind.result:
        return p.sink.result(f.content);
      case FrameKind.error:
        return p.sink.error(f.uri, f.content, f.details);
      case FrameKind.reject:
        return p.sink.undelivered(f.why);
    }
  }

  /** An inbox frame, from the hub (`link` undefined: answers go back through the hub) or over a direct link. */
  private inbox(body: Buffer, link: PeerLink | undefined): void {
    const f = readInbox(body);
    const key = `${f.origin}/${f.call}`;
    switch (f.kind) {
      case FrameKind.invoke: {
        const handlers = this.handlers;
        if (!handlers || !this.connected) return;
        const address = `${f.origin}\u0000${f.call}`;
        const out = link?.out ?? this.out!;
        let done = false;
        const open = (final: boolean) => {
          if (done || !this.connected) return false;
          if (final) {
            done = true;
            this.served.delete(key);
          }
          return true;
        };
        const port: ReplyPort = {
          progress: (answer) => open(false) && out.send(answerMessage(address, FrameKind.progress, answer)),
          result: (answer) => open(true) && out.send(answerMessage(address, FrameKind.result, answer)),
          error: (uri, answer, d) => open(true) && out.send(errorMessage(address, uri, d, answer)),
          reject: (why) => open(true) && out.send(rejectMessage(address, why)),
        };
        let handle: CallHandle;
        try {
          handle = handlers.invocation(f.inv, port);
        } catch (err) {
          this.log.error({ err, procedure: f.inv.procedure }, 'handling an invocation from another worker failed');
          return port.error(ErrorUri.internalError, textContent('the callee\'s worker failed to handle the invocation'), {});
        }
        if (!done) this.served.set(key, { origin: f.origin, handle, link });
        return;
      }
      case FrameKind.chunk:
        return this.served.get(key)?.handle.chunk(f.content, f.last);
      case FrameKind.cancel: {
        const s = this.served.get(key);
        if (!s) return;
        if (f.mode !== 'kill') this.served.delete(key);
        return s.handle.cancel(f.mode, f.reason);
      }
    }
  }

  private lost(): void {
    const was = this.connected;
    this.connected = false;
    this.links?.close();
    for (const r of this.requests.values()) r.reject(new Error('the backplane hub is gone'));
    this.requests.clear();
    for (const node of [...this.others.keys()]) this.down(node);
    if (was && !this.stopping) {
      this.log.error('backplane: the hub (the node\'s primary process) is gone; this worker is cut off');
      this.o.onLost?.();
    }
  }

  // ---- direct links to the other workers (peer-links.ts) -----------------------------------------

  /** Listens for other workers' direct calls beside the hub's socket; if that fails, calls go through the hub. */
  private async listenDirect(): Promise<void> {
    const at = path.join(path.dirname(this.o.path), `${this.nodeId.replace(/[^\w.-]/g, '_')}.${randomBytes(3).toString('hex')}.sock`);
    const links = new PeerLinks(at, {
      message: (m, link) => this.fromPeer(m, link),
      closed: (link) => this.linkClosed(link),
    }, this.log);
    try {
      await links.listen();
      this.links = links;
    } catch (err) {
      this.log.warn({ err, path: at }, 'backplane: no worker-to-worker socket; calls to other workers go through the hub');
    }
  }

  private fromPeer(m: WireMessage, link: PeerLink): void {
    try {
      if (m.op === Op.inbox && !link.outgoing) return this.inbox(m.body, link);
      if (m.op === Op.reply && link.outgoing) return this.reply(Number(m.address.slice(m.address.indexOf('\u0000') + 1)), m.body);
      this.log.warn({ op: m.op }, 'backplane: unexpected message on a worker-to-worker link ignored');
    } catch (err) {
      this.log.error({ err, op: m.op }, 'backplane: a message from another worker could not be handled; it is dropped');
    }
  }

  /**
   * A direct link closed. Its calls end as a lost member's do: canceled if the invocation may have
   * reached the callee, undelivered (the router may try another callee) if the link never connected.
   * Invocations that came over it are canceled: their caller's worker is gone.
   */
  private linkClosed(link: PeerLink): void {
    for (const [call, p] of this.pending) {
      if (p.link !== link) continue;
      this.pending.delete(call);
      if (link.connected) p.sink.error(ErrorUri.canceled, textContent('callee node lost'), {});
      else p.sink.undelivered('gone');
    }
    for (const [key, s] of this.served) {
      if (s.link !== link) continue;
      this.served.delete(key);
      s.handle.cancel('killnowait');
    }
  }

  // ---- to the hub -----------------------------------------------------------------------------

  private send(fields: readonly unknown[]): void {
    if (this.connected) this.out!.send(encodeControl(fields));
  }

  private request(fields: readonly unknown[], now?: (v: unknown) => void): Promise<unknown> {
    if (!this.connected) return Promise.reject(new Error('the backplane hub is not connected'));
    const id = ++this.requestSeq;
    const [kind, ...rest] = fields;
    return new Promise((resolve, reject) => {
      this.requests.set(id, { resolve, reject, now });
      this.out!.send(encodeControl([kind, id, ...rest]));
    });
  }
}

/** A registration as MessagePack brought it: a callee's absent `concurrency` came as nil, which would mean "at its limit". */
function asRegistration(reg: ClusterReg): ClusterReg {
  return {
    ...reg,
    callees: reg.callees.map((c) => {
      const { concurrency, ...rest } = c;
      return typeof concurrency === 'number' ? c : rest;
    }),
  };
}

type Request = (fields: readonly unknown[], now?: (answer: unknown) => void) => Promise<unknown>;

/** This worker's replica of the hub's retained events: its own writes show at once, the hub's order wins. */
export class HubRetained extends MemoryRetainedTable {
  constructor(private readonly request: Request) {
    super();
  }

  override async put(entry: StoredEntry): Promise<void> {
    this.set(entry);
    await this.request(['retain', entry.event.realm, entry.event.topic, encodeStoredEvent(entry)]);
  }

  override delete(realm: string, topic: string): void {
    this.remove(realm, topic);
    this.request(['retain', realm, topic, null]).catch(() => undefined);
  }

  override async refresh(realm: string, topic: string): Promise<void> {
    await this.request(['retained?', realm, topic], (bytes) => {
      if (bytes) this.set(decodeStoredEvent(bytes as Uint8Array));
      else this.remove(realm, topic);
    });
  }

  apply(entry: StoredEntry): void {
    this.set(entry);
  }

  applyDelete(realm: string, topic: string): void {
    this.remove(realm, topic);
  }
}

/** Event history logs kept by the hub; this worker delivers what the logs it follows get. */
export class HubHistory implements HistoryLog {
  private readonly followers = new Map<string, (entry: StoredEntry) => void>();

  constructor(private readonly request: Request) {}

  async follow(realm: string, id: number, bounds: HistoryBounds, deliver: (entry: StoredEntry) => void): Promise<void> {
    // What the log kept, then what is appended after: the answer is delivered as it is read.
    await this.request(['follow', realm, id, bounds.limit, bounds.maxAgeMs ?? null], (kept) => {
      for (const bytes of kept as Uint8Array[]) deliver(decodeStoredEvent(bytes));
      this.followers.set(`${realm}\u0000${id}`, deliver);
    });
  }

  append(realm: string, id: number, entry: StoredEntry): Promise<void> {
    return this.request(['append', realm, id, entry.time, encodeStoredEvent(entry)]).then(() => undefined);
  }

  async sync(): Promise<void> {
    await this.request(['ping']);
  }

  appended(realm: string, id: number, entry: StoredEntry): void {
    this.followers.get(`${realm}\u0000${id}`)?.(entry);
  }
}
