/**
 * WAMP spoken by hand (JSON) over a BenchSocket: the opening handshake and the request/reply
 * setup messages are parsed with JSON.parse; hot paths (EVENT, INVOCATION, RESULT, PUBLISHED)
 * are handed to `onHot` as raw bytes so each scenario decodes only what it must.
 *
 * Also the byte helpers both the scenarios and the bare baseline server use to read the leading
 * integer fields of a JSON WAMP message without parsing it.
 */
import { BenchSocket } from './ws-client.js';

export const WAMP_JSON = 'wamp.2.json';

/** WAMP message codes used here. */
export const M = {
  HELLO: 1, WELCOME: 2, ABORT: 3, GOODBYE: 6, ERROR: 8, PUBLISH: 16, PUBLISHED: 17, SUBSCRIBE: 32,
  SUBSCRIBED: 33, EVENT: 36, CALL: 48, RESULT: 50, REGISTER: 64, REGISTERED: 65, INVOCATION: 68, YIELD: 70,
} as const;

const HELLO_ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };
const COMMA = 0x2c;

/** Index of the `n`th comma (1-based) of a JSON message, counting from the start; -1 if absent. */
export function nthComma(b: Buffer, n: number): number {
  let i = -1;
  for (let k = 0; k < n; k++) {
    i = b.indexOf(COMMA, i + 1);
    if (i < 0) return -1;
  }
  return i;
}

/** Non-negative integer written in ASCII at b[from, to). */
export function readInt(b: Buffer, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (b[i]! - 48);
  return v;
}

/** The message code of a JSON WAMP message (`[36,…` → 36). */
export function messageType(b: Buffer): number {
  return readInt(b, 1, b.indexOf(COMMA, 1));
}

export class WampPeer {
  sessionId = 0;
  /** Receives EVENT, INVOCATION, RESULT and PUBLISHED (when no request waits for it). */
  onHot: (payload: Buffer, type: number) => void = () => {};
  private nextRequest = 1;
  private readonly waiting = new Map<number, { resolve: (m: unknown[]) => void; reject: (e: Error) => void }>();
  private welcome: { resolve: (m: unknown[]) => void; reject: (e: Error) => void } | undefined;

  private constructor(readonly ws: BenchSocket) {
    ws.onFrame = (payload) => this.frame(payload);
    ws.onClose = () => this.failAll(new Error('connection closed'));
  }

  /** Connects and joins `realm` anonymously. */
  static async join(url: string, realm = 'realm1'): Promise<WampPeer> {
    const peer = new WampPeer(await BenchSocket.connect(url, WAMP_JSON));
    const welcome = new Promise<unknown[]>((resolve, reject) => (peer.welcome = { resolve, reject }));
    peer.ws.send(JSON.stringify([M.HELLO, realm, { roles: HELLO_ROLES }]));
    const w = await welcome;
    peer.sessionId = w[1] as number;
    return peer;
  }

  /** The next request id of this session (sequential, as the spec asks). */
  request(): number {
    return this.nextRequest++;
  }

  /** Sends a request and resolves with its reply (SUBSCRIBED, REGISTERED, PUBLISHED…); ERROR rejects. */
  call(build: (request: number) => unknown[]): Promise<unknown[]> {
    const request = this.request();
    const reply = new Promise<unknown[]>((resolve, reject) => this.waiting.set(request, { resolve, reject }));
    this.ws.send(JSON.stringify(build(request)));
    return reply;
  }

  subscribe(topic: string, options: Record<string, unknown> = {}): Promise<number> {
    return this.call((r) => [M.SUBSCRIBE, r, options, topic]).then((m) => m[2] as number);
  }

  register(procedure: string, options: Record<string, unknown> = {}): Promise<number> {
    return this.call((r) => [M.REGISTER, r, options, procedure]).then((m) => m[2] as number);
  }

  /** Many SUBSCRIBEs pipelined in one write; resolves with the subscription ids in order. */
  async subscribeMany(topics: readonly string[], options: Record<string, unknown> = {}): Promise<number[]> {
    this.ws.cork();
    const replies = topics.map((t) => this.subscribe(t, options));
    this.ws.uncork();
    return Promise.all(replies);
  }

  close(): void {
    this.ws.destroy();
  }

  private frame(payload: Buffer): void {
    const type = messageType(payload);
    if (type === M.EVENT || type === M.INVOCATION || type === M.RESULT) return this.onHot(payload, type);
    if (type === M.PUBLISHED && this.waiting.size === 0) return this.onHot(payload, type);
    const m = JSON.parse(payload.toString()) as unknown[];
    switch (type) {
      case M.WELCOME:
        this.welcome?.resolve(m);
        this.welcome = undefined;
        return;
      case M.ABORT:
      case M.GOODBYE:
        this.failAll(new Error(`session ended: ${JSON.stringify(m)}`));
        this.ws.destroy();
        return;
      case M.ERROR: {
        const w = this.waiting.get(m[2] as number);
        this.waiting.delete(m[2] as number);
        w?.reject(new Error(`WAMP ERROR ${JSON.stringify(m)}`));
        return;
      }
      default: {
        const w = this.waiting.get(m[1] as number);
        if (!w) throw new Error(`unexpected message ${JSON.stringify(m).slice(0, 200)}`);
        this.waiting.delete(m[1] as number);
        w.resolve(m);
      }
    }
  }

  private failAll(e: Error): void {
    this.welcome?.reject(e);
    this.welcome = undefined;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
