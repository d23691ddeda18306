/**
 * How authentication and authorization reach WAMP procedures that components register (dynamic
 * authenticators and authorizers): through a session of the router's own on the procedure's
 * realm, joined on first use and re-joined if it ends. The node supplies `join` (an in-process
 * client); this module knows nothing of routers or sockets.
 */
import type { Dict } from '../wamp/messages.js';

/** The part of an in-process client that calling a procedure needs. */
export interface ServiceSession {
  readonly isOpen: boolean;
  call(procedure: string, args?: readonly unknown[], kwargs?: Readonly<Dict>, options?: Dict): Promise<{ args: readonly unknown[] | undefined; kwargs: Readonly<Dict> | undefined }>;
  close(): void;
}

export interface ProcedureCaller {
  /**
   * Calls `procedure` on `realm` as a router session with `role`; resolves to the result
   * (RESULT.Arguments[0], or the keyword arguments when there are no positional ones) and rejects
   * with the ERROR (an object with `uri` and `args`) or a timeout.
   */
  call(realm: string, role: string, procedure: string, args: unknown[], timeoutMs: number): Promise<unknown>;
}

/** A WAMP error as the in-process client reports it. */
export interface CallFailure {
  readonly uri: string;
  readonly args?: readonly unknown[] | undefined;
}

export function isCallFailure(e: unknown): e is CallFailure {
  return typeof e === 'object' && e !== null && typeof (e as CallFailure).uri === 'string';
}

export class ServiceSessions implements ProcedureCaller {
  private readonly sessions = new Map<string, Promise<ServiceSession>>();
  private closed = false;

  constructor(private readonly join: (realm: string, role: string) => Promise<ServiceSession>) {}

  private session(realm: string, role: string): Promise<ServiceSession> {
    const key = `${role}\u0000${realm}`;
    const existing = this.sessions.get(key);
    if (existing !== undefined) {
      return existing.then((s) => {
        if (s.isOpen) return s;
        this.sessions.delete(key);
        return this.session(realm, role);
      });
    }
    const joining = this.join(realm, role);
    this.sessions.set(key, joining);
    // A failed join is not cached: the next call tries again.
    joining.catch(() => this.sessions.delete(key));
    return joining;
  }

  async call(realm: string, role: string, procedure: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.closed) throw new Error('router is shutting down');
    const s = await this.session(realm, role);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${procedure} did not answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    try {
      // The dealer cancels the call at `timeout` too, so the callee learns it may stop.
      const r = await Promise.race([s.call(procedure, args, undefined, { timeout: timeoutMs }), timeout]);
      if (r.args !== undefined && r.args.length > 0) return r.args[0];
      return r.kwargs ?? null;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) s.then((x) => x.close(), () => undefined);
    this.sessions.clear();
  }
}
