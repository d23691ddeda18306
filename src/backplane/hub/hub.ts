/**
 * The hub of the in-node backplane (hub-backplane.ts): it runs in the node's primary process and
 * holds what the workers share, the way NATS and its KV buckets do for a cluster — the registry
 * (one order of changes for every worker), the interest of each worker (an event goes to the
 * workers whose subscriptions match it, as the bytes it came in), retained events, event history
 * logs, the first/last subscriber count, session-id slots and every worker's testaments.
 *
 * A worker is a member while its socket is open. When the socket closes (the worker exited or
 * died) the hub takes it out: every other worker hears it is down, its callees leave the
 * registry, and its sessions' testaments go to the lowest live worker to publish.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { MatchIndex } from '../../match/match-index.js';
import type { MatchPolicy } from '../../wamp/uri.js';
import type { Dict, InvokePolicy } from '../../wamp/messages.js';
import type { ClusterCallee, ClusterReg } from '../backplane.js';
import { applyNodeLoss, applyRegister, applyUnregister } from '../registry-rules.js';
import { decodeControl, encodeControl, MessageWriter, Op, readMessages, type WireMessage } from './wire.js';

const SLOTS = 1024;

interface Member {
  readonly socket: Socket;
  readonly out: MessageWriter;
  name: string | undefined;
  /** The worker's socket for direct calls from the others (peer-links.ts), if it has one. */
  peer: string | undefined;
  slot: number;
  /** Interest counts by `realm\0match\0uri`. */
  readonly interests: Map<string, { realm: string; uri: string; match: MatchPolicy; count: number }>;
  /** Testament records (encoded) by `realm\0session`. */
  readonly testaments: Map<string, Uint8Array>;
  advert: Uint8Array | undefined;
}

interface HistoryLogState {
  limit: number;
  maxAgeMs: number | undefined;
  /** [time, encoded entry] oldest first. */
  readonly entries: [number, Uint8Array][];
  readonly followers: Set<Member>;
}

interface OpenQuery {
  readonly asker: Member;
  readonly request: number;
  readonly waiting: Set<Member>;
  readonly answers: Dict[];
  readonly timer: NodeJS.Timeout;
}

export class BackplaneHub {
  private server: Server | undefined;
  private readonly members = new Set<Member>();
  private readonly byName = new Map<string, Member>();
  private readonly registry = new Map<string, ClusterReg>();
  /** Per realm: which members have interest in each (uri, match), with counts. */
  private readonly interest = new Map<string, MatchIndex<Map<Member, number>>>();
  /** Encoded retained entries by `realm\0topic`, in retention order. */
  private readonly retained = new Map<string, Uint8Array>();
  private readonly histories = new Map<string, HistoryLogState>();
  private readonly holders = new Map<string, Set<Member>>();
  private readonly queries = new Map<number, OpenQuery>();
  private querySeq = 0;

  constructor(readonly path: string, private readonly log: Logger) {}

  async start(): Promise<void> {
    rmSync(this.path, { force: true });
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
  }

  async stop(): Promise<void> {
    for (const m of this.members) m.socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.path, { force: true });
  }

  /** Live members' names. */
  memberNames(): string[] {
    return [...this.byName.keys()];
  }

  private accept(socket: Socket): void {
    socket.setNoDelay?.(true);
    const member: Member = {
      socket, out: new MessageWriter((d) => socket.write(d)), name: undefined, peer: undefined, slot: -1, interests: new Map(), testaments: new Map(), advert: undefined,
    };
    readMessages(socket, (m) => this.received(member, m), (err) => {
      this.log.error({ err, member: member.name }, 'backplane hub: a worker sent what it cannot read; closing its link');
    });
    socket.on('close', () => this.left(member));
  }

  /** One message from a worker; one that fails is logged and dropped, the worker's link goes on. */
  private received(from: Member, m: WireMessage): void {
    try {
      this.route(from, m);
    } catch (err) {
      this.log.error({ err, op: m.op, member: from.name }, 'backplane hub: a message from a worker could not be handled; it is dropped');
    }
  }

  private route(from: Member, m: WireMessage): void {
    switch (m.op) {
      case Op.event:
        return this.routeEvent(from, m);
      case Op.inbox: {
        const target = this.byName.get(m.address);
        // An inbox frame to a node that is not (or no longer) there: the caller's node answers it undelivered.
        if (!target) return from.out.send(encodeControl(['nobody', m.body]));
        return target.out.send(m.raw);
      }
      case Op.reply: {
        const origin = this.byName.get(m.address.slice(0, m.address.indexOf('\u0000')));
        return origin?.out.send(m.raw);
      }
      case Op.control:
        return this.control(from, decodeControl(m.body));
    }
  }

  private routeEvent(from: Member, m: WireMessage): void {
    const split = m.address.indexOf('\u0000');
    const index = this.interest.get(m.address.slice(0, split));
    if (!index) return;
    const topic = m.address.slice(split + 1);
    const to = new Set<Member>();
    index.forEachMatch(topic, (holders) => {
      for (const member of holders.keys()) if (member !== from) to.add(member);
    });
    for (const member of to) member.out.send(m.raw);
  }

  private control(from: Member, f: unknown[]): void {
    const kind = f[0] as string;
    const answer = (value: unknown) => from.out.send(encodeControl(['ans', f[1], value]));
    switch (kind) {
      case 'hello':
        return this.hello(from, f[1] as number, f[2] as string, typeof f[3] === 'string' ? f[3] : undefined);
      case 'interest':
        this.addInterest(from, f[2] as string, f[3] as string, f[4] as MatchPolicy);
        return answer(null);
      case 'uninterest':
        return this.removeInterest(from, f[1] as string, f[2] as string, f[3] as MatchPolicy);
      case 'ping':
        return answer(null);
      case 'register': {
        const [realm, uri, match, invoke, callee, force] = f.slice(2) as [string, string, MatchPolicy, InvokePolicy, ClusterCallee, boolean];
        const key = regKey(realm, uri, match);
        const decision = applyRegister(this.registry.get(key), { realm, uri, match, invoke, callee, force });
        if ('error' in decision) return answer(decision);
        this.registry.set(key, decision.next);
        this.broadcast(['changed', realm, uri, match, decision.next]);
        return answer({ regId: decision.next.regId });
      }
      case 'unregister': {
        const [realm, uri, match, session] = f.slice(2) as [string, string, MatchPolicy, number];
        const key = regKey(realm, uri, match);
        const next = applyUnregister(this.registry.get(key), from.name!, session);
        if (next === 'unchanged') return answer(false);
        this.setReg(key, realm, uri, match, next);
        return answer(next === undefined);
      }
      case 'hold': {
        const key = regKey(f[2] as string, f[3] as string, f[4] as MatchPolicy);
        let set = this.holders.get(key);
        if (!set) this.holders.set(key, (set = new Set()));
        const first = set.size === 0 || (set.size === 1 && set.has(from));
        set.add(from);
        return answer(first);
      }
      case 'release': {
        const key = regKey(f[2] as string, f[3] as string, f[4] as MatchPolicy);
        const set = this.holders.get(key);
        set?.delete(from);
        if (set?.size === 0) this.holders.delete(key);
        return answer(!set || set.size === 0);
      }
      case 'retain': {
        const [realm, topic, entry] = f.slice(2) as [string, string, Uint8Array | null];
        const key = `${realm}\u0000${topic}`;
        this.retained.delete(key);
        if (entry) this.retained.set(key, entry);
        this.broadcast(['retained', realm, topic, entry]);
        return answer(null);
      }
      case 'retained?': {
        return answer(this.retained.get(`${f[2] as string}\u0000${f[3] as string}`) ?? null);
      }
      case 'follow': {
        const [realm, id, limit, maxAgeMs] = f.slice(2) as [string, number, number, number | null];
        const key = `${realm}\u0000${id}`;
        let h = this.histories.get(key);
        if (!h) this.histories.set(key, (h = { limit, maxAgeMs: maxAgeMs ?? undefined, entries: [], followers: new Set() }));
        h.limit = Math.max(h.limit, limit);
        h.followers.add(from);
        prune(h);
        return answer(h.entries.map((e) => e[1]));
      }
      case 'append': {
        const [realm, id, time, entry] = f.slice(2) as [string, number, number, Uint8Array];
        const h = this.histories.get(`${realm}\u0000${id}`);
        if (h) {
          h.entries.push([time, entry]);
          prune(h);
          const message = encodeControl(['appended', realm, id, entry]);
          for (const m of h.followers) m.out.send(message);
        }
        return answer(null);
      }
      case 'keep': {
        const [realm, session, record] = f.slice(1) as [string, number, Uint8Array | null];
        const key = `${realm}\u0000${session}`;
        if (record) from.testaments.set(key, record);
        else from.testaments.delete(key);
        return;
      }
      case 'unkeep': {
        from.testaments.delete(`${f[2] as string}\u0000${f[3] as number}`);
        return answer(true);
      }
      case 'query':
        return this.query(from, f[1] as number, f[2] as string, f[3] as Dict, f[4] as number);
      case 'answer': {
        const q = this.queries.get(f[1] as number);
        if (!q || !q.waiting.delete(from)) return;
        if (f[2]) q.answers.push(f[2] as Dict);
        if (q.waiting.size === 0) this.endQuery(f[1] as number);
        return;
      }
      case 'advert':
        from.advert = f[1] as Uint8Array;
        return this.broadcast(['advert', from.name, f[1]], from);
      default:
        this.log.warn({ kind, member: from.name }, 'backplane hub: unknown control message ignored');
    }
  }

  private hello(from: Member, request: number, name: string, peer: string | undefined): void {
    if (this.byName.has(name)) {
      from.out.send(encodeControl(['ans', request, { error: `a worker named ${name} is already a member` }]));
      return;
    }
    const taken = new Set([...this.members].map((m) => m.slot));
    let slot = Math.floor(Math.random() * SLOTS);
    while (taken.has(slot)) slot = (slot + 1) % SLOTS;
    from.name = name;
    from.peer = peer;
    from.slot = slot;
    this.broadcast(['joined', name, peer ?? null]);
    this.members.add(from);
    this.byName.set(name, from);
    const adverts = [...this.members].filter((m) => m !== from && m.advert).map((m) => [m.name, m.advert]);
    const peers = [...this.members].filter((m) => m.peer !== undefined).map((m) => [m.name, m.peer]);
    from.out.send(encodeControl(['ans', request, {
      slot, members: this.memberNames(), peers, registry: [...this.registry.values()], retained: [...this.retained.values()], adverts,
    }]));
  }

  private left(member: Member): void {
    if (!this.members.delete(member)) return;
    const name = member.name!;
    this.byName.delete(name);
    this.broadcast(['down', name]);
    for (const [key, reg] of this.registry) {
      const next = applyNodeLoss(reg, name);
      if (next !== 'unchanged') this.setReg(key, reg.realm, reg.uri, reg.match, next);
    }
    for (const i of member.interests.values()) this.dropInterest(member, i.realm, i.uri, i.match);
    for (const [key, set] of this.holders) if (set.delete(member) && set.size === 0) this.holders.delete(key);
    for (const h of this.histories.values()) h.followers.delete(member);
    for (const [id, q] of this.queries) if (q.waiting.delete(member) && q.waiting.size === 0) this.endQuery(id);
    // A worker that died left its direct-call socket file behind; only one beside the hub's is removed.
    const peer = member.peer;
    if (peer !== undefined && peer !== this.path && path.dirname(peer) === path.dirname(this.path) && peer.endsWith('.sock')) {
      rmSync(peer, { force: true });
    }
    const heir = [...this.byName.keys()].sort()[0];
    if (member.testaments.size > 0) {
      if (heir === undefined) this.log.warn({ worker: name, sessions: member.testaments.size }, 'backplane hub: no worker left to publish testaments');
      else for (const record of member.testaments.values()) this.byName.get(heir)!.out.send(encodeControl(['orphaned', record]));
    }
    this.log.info({ worker: name }, 'backplane hub: worker left');
  }

  private setReg(key: string, realm: string, uri: string, match: MatchPolicy, next: ClusterReg | undefined): void {
    if (next) this.registry.set(key, next);
    else this.registry.delete(key);
    this.broadcast(['changed', realm, uri, match, next ?? null]);
  }

  private addInterest(member: Member, realm: string, uri: string, match: MatchPolicy): void {
    const key = regKey(realm, uri, match);
    const mine = member.interests.get(key);
    if (mine) {
      mine.count++;
      return;
    }
    member.interests.set(key, { realm, uri, match, count: 1 });
    let index = this.interest.get(realm);
    if (!index) this.interest.set(realm, (index = new MatchIndex()));
    let holders = index.get(uri, match);
    if (!holders) index.set(uri, match, (holders = new Map()));
    holders.set(member, 1);
  }

  private removeInterest(member: Member, realm: string, uri: string, match: MatchPolicy): void {
    const key = regKey(realm, uri, match);
    const mine = member.interests.get(key);
    if (!mine) return;
    if (--mine.count > 0) return;
    member.interests.delete(key);
    this.dropInterest(member, realm, uri, match);
  }

  private dropInterest(member: Member, realm: string, uri: string, match: MatchPolicy): void {
    const index = this.interest.get(realm);
    const holders = index?.get(uri, match);
    if (!index || !holders) return;
    holders.delete(member);
    if (holders.size > 0) return;
    index.delete(uri, match);
    if (index.size === 0) this.interest.delete(realm);
  }

  private query(asker: Member, request: number, realm: string, query: Dict, maxWaitMs: number): void {
    const id = ++this.querySeq;
    const waiting = new Set([...this.members].filter((m) => m !== asker));
    const timer = setTimeout(() => this.endQuery(id), maxWaitMs);
    this.queries.set(id, { asker, request, waiting, answers: [], timer });
    if (waiting.size === 0) return this.endQuery(id);
    const ask = encodeControl(['ask', id, realm, query]);
    for (const m of waiting) m.out.send(ask);
  }

  private endQuery(id: number): void {
    const q = this.queries.get(id);
    if (!q) return;
    this.queries.delete(id);
    clearTimeout(q.timer);
    if (q.waiting.size > 0) this.log.warn({ silent: [...q.waiting].map((m) => m.name) }, 'backplane hub: workers did not answer a meta query in time');
    q.asker.out.send(encodeControl(['ans', q.request, q.answers]));
  }

  private broadcast(fields: readonly unknown[], except?: Member): void {
    const message = encodeControl(fields);
    for (const m of this.members) if (m !== except) m.out.send(message);
  }
}

function regKey(realm: string, uri: string, match: string): string {
  return `${realm}\u0000${match}\u0000${uri}`;
}

function prune(h: HistoryLogState): void {
  if (h.maxAgeMs !== undefined) {
    const oldest = Date.now() - h.maxAgeMs;
    while (h.entries.length > 0 && h.entries[0]![0] < oldest) h.entries.shift();
  }
  if (h.entries.length > h.limit) h.entries.splice(0, h.entries.length - h.limit);
}
