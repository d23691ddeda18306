/**
 * A tiny raw WAMP peer over `ws` (JSON) for what stock clients cannot do: act as a callee that
 * handles INTERRUPT, stream progressive call invocations, see UNREGISTERED revocations, observe
 * exact message order, and drive thousands of calls cheaply. It speaks only what tests ask it to.
 */
import WebSocket from 'ws';
import { prng } from './prng.js';

export const M = {
  HELLO: 1, WELCOME: 2, ABORT: 3, GOODBYE: 6, ERROR: 8,
  CALL: 48, CANCEL: 49, RESULT: 50, REGISTER: 64, REGISTERED: 65, UNREGISTER: 66, UNREGISTERED: 67,
  INVOCATION: 68, INTERRUPT: 69, YIELD: 70,
} as const;

export type Msg = unknown[];
type Dict = Record<string, unknown>;

const ALL_FEATURES = {
  caller_identification: true, call_canceling: true, progressive_call_results: true,
  progressive_call_invocations: true, pattern_based_registration: true, shared_registration: true,
  registration_revocation: true,
};

/** HELLO roles announcing every RPC feature, for a callee that implements them all. */
export const FULL_ROLES: Dict = { caller: { features: ALL_FEATURES }, callee: { features: ALL_FEATURES } };
/** HELLO roles announcing no advanced feature at all. */
export const PLAIN_ROLES: Dict = { caller: {}, callee: {} };

interface Waiter { pred: (m: Msg) => boolean; resolve: (m: Msg) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export class RawPeer {
  session = 0;
  /** Messages nobody consumed yet, in arrival order. */
  readonly inbox: Msg[] = [];
  /** Every message received, in order (for asserting what did or did not arrive). */
  readonly log: Msg[] = [];
  /** Called first for each message; return true to consume it. */
  listener: ((m: Msg) => boolean | void) | undefined;
  readonly closed: Promise<void>;
  private waiters: Waiter[] = [];
  private lastId = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data) => this.receive(JSON.parse(String(data)) as Msg));
  }

  static async connect(url: string, roles: Dict = FULL_ROLES, realm = 'realm1'): Promise<RawPeer> {
    const ws = new WebSocket(url, ['wamp.2.json']);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const peer = new RawPeer(ws);
    peer.send([M.HELLO, realm, { roles }]);
    const welcome = await peer.next((m) => m[0] === M.WELCOME || m[0] === M.ABORT);
    if (welcome[0] !== M.WELCOME) throw new Error(`session refused: ${JSON.stringify(welcome)}`);
    peer.session = welcome[1] as number;
    return peer;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  nextId(): number {
    return ++this.lastId;
  }

  send(m: Msg): void {
    this.ws.send(JSON.stringify(m));
  }

  /** The first unconsumed message matching `pred` (removed from the inbox), waiting up to `ms`. */
  next(pred: (m: Msg) => boolean = () => true, ms = 5000): Promise<Msg> {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred, resolve, reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`no matching message within ${ms} ms; inbox: ${JSON.stringify(this.inbox).slice(0, 500)}`));
        }, ms),
      };
      this.waiters.push(w);
    });
  }

  /** The answer (RESULT or ERROR) to CALL `request`; progressive RESULTs count too. */
  answer(request: number, ms?: number): Promise<Msg> {
    return this.next((m) => (m[0] === M.RESULT && m[1] === request) || (m[0] === M.ERROR && m[1] === M.CALL && m[2] === request), ms);
  }

  /** The next INVOCATION (optionally for registration `reg`). */
  invocation(reg?: number, ms?: number): Promise<Msg> {
    return this.next((m) => m[0] === M.INVOCATION && (reg === undefined || m[2] === reg), ms);
  }

  async register(procedure: string, options: Dict = {}): Promise<number> {
    const r = this.nextId();
    this.send([M.REGISTER, r, options, procedure]);
    const m = await this.next((x) => (x[0] === M.REGISTERED && x[1] === r) || (x[0] === M.ERROR && x[2] === r));
    if (m[0] !== M.REGISTERED) throw Object.assign(new Error(`REGISTER refused: ${JSON.stringify(m)}`), { uri: m[4] });
    return m[2] as number;
  }

  /** Sends a CALL and returns its request ID. */
  call(procedure: string, args?: unknown[], kwargs?: Dict, options: Dict = {}): number {
    const r = this.nextId();
    this.send(callMessage(r, procedure, args, kwargs, options));
    return r;
  }

  /** Calls and waits for the final answer. */
  async callAndWait(procedure: string, args?: unknown[], kwargs?: Dict, options: Dict = {}, ms?: number): Promise<Msg> {
    const r = this.call(procedure, args, kwargs, options);
    for (;;) {
      const m = await this.answer(r, ms);
      if (m[0] === M.ERROR || !(m[2] as Dict).progress) return m;
    }
  }

  yield(invocation: number, args?: unknown[], kwargs?: Dict, options: Dict = {}): void {
    const m: Msg = [M.YIELD, invocation, options];
    if (args !== undefined || kwargs !== undefined) m.push(args ?? []);
    if (kwargs !== undefined) m.push(kwargs);
    this.send(m);
  }

  error(invocation: number, uri: string, args?: unknown[], kwargs?: Dict): void {
    const m: Msg = [M.ERROR, M.INVOCATION, invocation, {}, uri];
    if (args !== undefined || kwargs !== undefined) m.push(args ?? []);
    if (kwargs !== undefined) m.push(kwargs);
    this.send(m);
  }

  /** Leaves with GOODBYE and resolves once the router's GOODBYE reply has arrived (the router has removed the session by then). */
  async goodbye(): Promise<void> {
    if (!this.isOpen) return;
    this.send([M.GOODBYE, {}, 'wamp.close.normal']);
    await this.next((m) => m[0] === M.GOODBYE);
    this.ws.close();
    await this.closed;
  }

  /** Drops the TCP connection without any WAMP or WebSocket closing handshake. */
  async kill(): Promise<void> {
    this.ws.terminate();
    await this.closed;
  }

  private receive(m: Msg): void {
    this.log.push(m);
    if (this.listener?.(m) === true) return;
    const w = this.waiters.find((x) => x.pred(m));
    if (w) {
      clearTimeout(w.timer);
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(m);
      return;
    }
    this.inbox.push(m);
  }
}

export function callMessage(request: number, procedure: string, args?: unknown[], kwargs?: Dict, options: Dict = {}): Msg {
  const m: Msg = [M.CALL, request, options, procedure];
  if (args !== undefined || kwargs !== undefined) m.push(args ?? []);
  if (kwargs !== undefined) m.push(kwargs);
  return m;
}

export { prng };
