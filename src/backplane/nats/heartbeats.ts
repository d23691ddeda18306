/**
 * Membership over NATS (design/cluster.md §5): this node heartbeats on `P.hb` every interval and
 * says `bye` when it stops; the membership table (membership.ts) declares a node dead after
 * `deadAfterMs` of silence or at its bye. Members are also learned from the session-id slot
 * bucket `xbar_<cluster>_slots`: a node that claimed a slot is known before its first heartbeat
 * reaches us, so one that dies at once is still declared dead and reaped. The heartbeat also
 * keeps this node's slot alive.
 *
 * Before a silent node is declared dead this node checks that it can hear at all: a round trip
 * to its NATS server (a flush). A server that does not answer (paused, or cut off in a way the
 * client has not noticed yet) means the silence is this node's own; so does a disconnect. Then
 * nobody is declared dead until the server answers again, and from then everyone gets a full
 * dead-after window (membership.ts).
 *
 * Heartbeats carry this node's advert for the node directory (node-directory.ts): addresses,
 * load and state, read again at every beat. A node enters the directory with its first advert
 * and leaves it when membership lets it go.
 */
import type { KV, Msg, NatsConnection } from 'nats';
import { decodeHeartbeat, encodeHeartbeat } from './frame.js';
import { initialValues, type NatsLink } from './link.js';
import { Membership } from './membership.js';
import { NodeDirectory } from '../node-directory.js';
import type { NodeEntry } from '../backplane.js';
import { SessionSlot } from './session-slot.js';

/** How long a JetStream write may take when this node hears too few (longer: it is cut off). */
const JS_PROBE_MS = 2000;
/** How often a node refreshes its session-id slot (the slot bucket's TTL is at least 10 s). */
const SLOT_REFRESH_MS = 2000;

export class Heartbeats {
  readonly members: Membership;
  readonly directory: NodeDirectory;
  /** Whether this node heartbeats already. */
  private beating = false;
  private sessionSlot: SessionSlot | undefined;
  private slotRefreshedAt = Date.now();
  private timers: NodeJS.Timeout[] = [];
  /** Slots held under this node's name by an earlier run of it (seen when the slot watch starts). */
  earlierSlots = 0;
  private probing = false;
  /** The last probe of the NATS server went unanswered. */
  private deaf = false;
  /** This node hears at most half the members and JetStream does not answer (`hearsTooFew`). */
  private unheard = false;
  /**
   * When this node last heard the cluster through its server (another node's heartbeat, an
   * answered probe): a connection that goes quiet is declared lost only seconds later (nats.js
   * pings), so the gap a reconnect replays starts here, not at the disconnect.
   */
  heardAt = 0;

  constructor(
    private readonly link: NatsLink,
    private readonly heartbeatMs: number,
    private readonly deadAfterMs: number,
    lost: (node: string) => void,
    private readonly joined: (entry: NodeEntry) => void,
    back: (node: string) => void = () => undefined,
    /** `hearsTooFew` turned true (`cut`) or false again while connected (`rejoined`). */
    private readonly cluster: { cut(): void; rejoined(): void } = { cut: () => undefined, rejoined: () => undefined },
  ) {
    this.members = new Membership(link.nodeId, deadAfterMs, lost, back);
    this.directory = new NodeDirectory(link.nodeId);
  }


  /** This node's session-id slot, once claimed. */
  get slot(): SessionSlot | undefined {
    return this.sessionSlot;
  }

  /** Listens to heartbeats and claims a session-id slot; `beat()` starts the heartbeat. */
  async start(nc: NatsConnection): Promise<void> {
    this.link.subscribe(nc, this.link.subjects.heartbeat, (msg) => this.heard(msg));
    const slots = await this.link.kv(nc, 'slots', { ttl: Math.max(10_000, 3 * this.deadAfterMs) });
    this.sessionSlot = new SessionSlot(slots, this.link.nodeId);
    await this.sessionSlot.claim();
    await this.watchSlots(slots);
  }

  /** Heartbeats from now on, and the sweep that declares silent nodes dead. */
  beat(): void {
    this.beating = true;
    this.heartbeat();
    const hb = setInterval(() => this.heartbeat(), this.heartbeatMs);
    const sweep = setInterval(() => {
      void this.check();
      const out = this.link.isolatedFor();
      if (out > 0) this.link.complaints.warn('isolated', { ms: out }, 'isolated from the NATS backplane for over 5 s');
    }, Math.max(50, Math.floor(this.heartbeatMs / 2)));
    hb.unref();
    sweep.unref();
    this.timers.push(hb, sweep);
  }

  /** The connection broke: this node hears nobody, so it declares nobody dead. */
  disconnected(): void {
    this.members.pause();
  }

  /** Back on NATS: silence counts again from now. */
  reconnected(): void {
    this.deaf = false;
    this.unheard = false;
    this.members.resume();
  }

  /**
   * One sweep: declares silent nodes dead, once a round trip to NATS shows this node can hear.
   * When this node hears at most half the members (itself included), the cause may be its
   * server having lost its routes to the rest of the NATS cluster (its clients still reach it, the
   * server answers): then JetStream must commit a write (its session-id slot) before anyone is taken for
   * dead (cluster.md §5), else this node hears too few (`hearsTooFew`) until that changes.
   */
  private async check(): Promise<void> {
    if (this.probing || !this.link.isConnected) return;
    const nc = this.link.open();
    if (!nc) return;
    if (!this.deaf && !this.unheard && !this.members.anySilent()) return this.members.sweep();
    this.probing = true;
    try {
      const heard = await answered(nc.flush(), Math.max(250, this.heartbeatMs));
      if (!this.link.isConnected) return;
      if (!heard) {
        if (!this.deaf) this.link.log.warn({ server: this.link.server() }, 'the NATS server does not answer: no silent node is taken for dead until it does');
        this.deaf = true;
        this.members.pause();
        return;
      }
      if (this.deaf) {
        this.heardAt = Date.now();
        this.deaf = false;
        this.link.log.info({ server: this.link.server() }, 'the NATS server answers again');
        return this.members.resume();
      }
      if (this.members.hearsAtMostHalf()) {
        if (!(await this.quorumAnswers())) {
          if (!this.unheard) {
            this.link.log.warn({ server: this.link.server(), peers: this.members.live().size - 1 },
              'this node hears at most half of the cluster\'s nodes and JetStream does not answer: its NATS server has lost the rest of the NATS cluster; nobody is taken for dead until it hears them again');
          }
          if (!this.unheard) {
            this.unheard = true;
            this.cluster.cut();
          }
          this.members.pause();
          return;
        }
        if (this.unheard) {
          // JetStream is back but the peers are still silent: each gets a full dead-after window.
          this.unheard = false;
          this.link.log.info({ server: this.link.server() }, 'JetStream answers again: silent nodes are taken for dead after dead_after');
          this.members.resume();
          return this.cluster.rejoined();
        }
      } else if (this.unheard) {
        this.unheard = false;
        this.link.log.info({ server: this.link.server() }, 'this node hears the other nodes again');
        this.members.resume();
        return this.cluster.rejoined();
      }
      this.heardAt = Date.now();
      this.members.sweep();
    } finally {
      this.probing = false;
    }
  }

  /**
   * Connected, but hearing at most half the members and JetStream does not answer: this node's
   * server is cut off from the rest of the NATS cluster (`health()` says degraded).
   */
  get hearsTooFew(): boolean {
    return this.unheard;
  }

  /**
   * Whether JetStream commits a write: this node's session-id slot refreshed within JS_PROBE_MS.
   * A write, not a read or account info: a server cut off may still take itself for the leader
   * (of the meta group, of a stream) for seconds and answer those, but it cannot commit.
   */
  private async quorumAnswers(): Promise<boolean> {
    const slot = this.sessionSlot;
    if (!slot) return false;
    let timer: NodeJS.Timeout | undefined;
    const state = await Promise.race([
      slot.refresh().catch(() => 'unreachable' as const),
      new Promise<'unreachable'>((r) => (timer = setTimeout(() => r('unreachable'), JS_PROBE_MS))),
    ]).finally(() => clearTimeout(timer));
    if (state !== 'unreachable') this.slotRefreshedAt = Date.now();
    return state !== 'unreachable';
  }

  /** Stops heartbeating (first step of a stop). */
  quiet(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Last step of a stop: frees the slot and says bye, so the others need not wait for silence. */
  async leave(nc: NatsConnection): Promise<void> {
    await this.sessionSlot?.release().catch((err: unknown) => this.link.log.warn({ err }, 'session-id slot not released: it frees itself when it expires'));
    nc.publish(this.link.subjects.heartbeat, encodeHeartbeat(this.link.nodeId, true));
  }

  /** A bye in this node's name (for an earlier run of it that died): the others let it go. */
  sayBye(nc: NatsConnection): void {
    nc.publish(this.link.subjects.heartbeat, encodeHeartbeat(this.link.nodeId, true));
  }

  /** Sends a heartbeat now if this node already beats (its advert changed). */
  beatNow(): void {
    if (this.beating) this.heartbeat();
  }

  heartbeat(): void {
    const nc = this.link.open();
    if (!nc || this.link.isStopping) return;
    nc.publish(this.link.subjects.heartbeat, encodeHeartbeat(this.link.nodeId, false, this.directory.own()));
    const now = Date.now();
    const slot = this.sessionSlot;
    if (slot && now - this.slotRefreshedAt >= SLOT_REFRESH_MS) {
      this.slotRefreshedAt = now;
      void slot.refresh().then((state) => {
        if (state === 'lost') this.link.log.error({ slot: slot.claimed }, 'lost this node\'s session-id slot: restart the node to claim a new one');
        else if (state === 'unreachable') this.link.log.debug({ slot: slot.claimed }, 'session-id slot not refreshed: JetStream did not answer');
      });
    }
  }

  private heard(msg: Msg): void {
    const f = decodeHeartbeat(msg.data);
    if (f.node !== this.link.nodeId) this.heardAt = Date.now();
    if (f.bye) return this.members.down(f.node);
    if (this.members.seen(f.node)) this.link.log.warn({ node: f.node }, 'a node taken for dead is back');
    if (f.advert && f.node !== this.link.nodeId && this.directory.update(f.node, f.advert)) this.joined(this.directory.get(f.node)!);
  }

  private async watchSlots(kv: KV): Promise<void> {
    let ready!: () => void;
    const initialized = new Promise<void>((r) => (ready = r));
    const iter = await kv.watch({ key: '>', initializedFn: () => ready() });
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') continue;
        const node = new TextDecoder().decode(e.value);
        if (node !== this.link.nodeId) this.members.know(node);
        else if (e.key !== `s${this.sessionSlot?.claimed ?? -1}`) this.earlierSlots++;
      }
    })().catch((err: unknown) => this.link.log.warn({ err }, 'slot watch ended: new nodes are learned from their heartbeats only'));
    await initialValues(initialized, 'slot watch', this.link.log);
  }
}

/** Whether `p` resolved within `ms` (a rejection or a timeout: false). */
function answered(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => true, () => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]).finally(() => clearTimeout(timer));
}
