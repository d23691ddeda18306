/**
 * Session meta procedures (advanced/ap_05_meta_api_sessions.md): count, list, get, kill,
 * kill_by_authid, kill_by_authrole, kill_all — over the whole realm, cluster-wide: this node
 * answers for its own sessions and asks the others (`Backplane.query`); a session on another
 * node is killed by that node, the only one that holds it.
 *
 * As in Crossbar.io, the router's own sessions (role `trusted`) are neither listed nor killable.
 */
import { TRUSTED_ROLE } from '../../auth/authorizer.js';
import { CloseUri, ErrorUri } from '../../wamp/errors.js';
import type { Dict } from '../../wamp/messages.js';
import { isValidUri } from '../../wamp/uri.js';
import type { Realm } from '../realm.js';
import type { Session } from '../session.js';
import { idArg, kwString, MetaError, type MetaCall, type MetaProcedure, stringArg, stringListArg } from './meta-call.js';

export type Answerer = (query: Dict) => Dict;

/** Sessions other meta clients may see: joined, and not the router's own. */
export function visible(s: Session): boolean {
  return s.isOpen && s.authrole !== TRUSTED_ROLE;
}

/** The spec's session details (`wamp.session.get`, `wamp.session.on_join`). */
export function sessionDetails(s: Session, node: string): Dict {
  const id = s.identity;
  const peer = s.conn.peer;
  const transport: Dict = {
    type: peer.transport,
    serializer: s.conn.serializer.id,
    peer: peer.remoteAddress.startsWith('local:') || peer.remotePort === undefined
      ? peer.remoteAddress
      : `${peer.remoteAddress.includes(':') ? 'tcp6' : 'tcp4'}:${peer.remoteAddress}:${peer.remotePort}`,
    is_secure: peer.secure,
    node,
  };
  if (peer.userAgent !== undefined) transport.user_agent = peer.userAgent;
  const details: Dict = {
    session: s.id,
    authid: s.authid,
    authrole: s.authrole,
    authmethod: id?.authmethod ?? '',
    authprovider: id?.authprovider ?? '',
    transport,
  };
  if (id?.authextra) details.authextra = id.authextra;
  return details;
}

interface KillRequest {
  readonly reason: string;
  readonly message: string | undefined;
}

function killRequest(call: MetaCall): KillRequest {
  const reason = kwString(call, 'reason') ?? CloseUri.normal;
  if (!isValidUri(reason, 'loose')) throw new MetaError(ErrorUri.invalidUri, `${call.procedure}: reason ${JSON.stringify(reason)} is not a valid URI`);
  return { reason, message: kwString(call, 'message') };
}

export class SessionMeta {
  constructor(
    private readonly realm: Realm,
    /** Sessions being killed by kill_all: they leave without meta events or testaments (spec). */
    private readonly quiet: Set<number>,
  ) {}

  private get node(): string {
    return this.realm.backplane.nodeId;
  }

  private local(authroles?: readonly string[]): Session[] {
    const out: Session[] = [];
    for (const s of this.realm.sessions.values()) {
      if (visible(s) && (authroles === undefined || authroles.includes(s.authrole))) out.push(s);
    }
    return out;
  }

  private kill(s: Session, k: KillRequest, quiet = false): void {
    if (quiet) this.quiet.add(s.id);
    s.goodbye(k.reason, k.message);
  }

  private killWhere(test: (s: Session) => boolean, except: number, k: KillRequest, quiet = false): number[] {
    const victims = this.local().filter((s) => s.id !== except && test(s));
    for (const s of victims) this.kill(s, k, quiet);
    return victims.map((s) => s.id);
  }

  procedures(): Record<string, MetaProcedure> {
    const others = <T>(q: Dict) => this.realm.backplane.query(this.realm.name, q) as Promise<T[]>;
    return {
      'wamp.session.count': async (call) => {
        const authroles = stringListArg(call, 0, 'filter_authroles');
        const remote = await others<{ count?: number }>({ kind: 'session.count', authroles });
        return { args: [this.local(authroles).length + remote.reduce((n, a) => n + (a.count ?? 0), 0)] };
      },
      'wamp.session.list': async (call) => {
        const authroles = stringListArg(call, 0, 'filter_authroles');
        const remote = await others<{ ids?: number[] }>({ kind: 'session.list', authroles });
        return { args: [[...this.local(authroles).map((s) => s.id), ...remote.flatMap((a) => a.ids ?? [])]] };
      },
      'wamp.session.get': async (call) => {
        const id = idArg(call, 0, 'session');
        const s = this.realm.sessions.get(id);
        if (s && visible(s)) return { args: [sessionDetails(s, this.node)] };
        const found = (await others<{ details?: Dict }>({ kind: 'session.get', id })).find((a) => a.details);
        if (found?.details) return { args: [found.details] };
        throw new MetaError(ErrorUri.noSuchSession, `no session with ID ${id} exists in realm "${this.realm.name}"`);
      },
      'wamp.session.kill': async (call) => {
        const id = idArg(call, 0, 'session');
        const k = killRequest(call);
        // The spec: a session cannot kill itself; "no *other* session with that ID exists".
        if (id !== call.session.id) {
          const s = this.realm.sessions.get(id);
          if (s && visible(s)) {
            this.kill(s, k);
            return {};
          }
          const answers = await others<{ killed?: boolean }>({ kind: 'session.kill', id, reason: k.reason, message: k.message });
          if (answers.some((a) => a.killed === true)) return {};
        }
        throw new MetaError(ErrorUri.noSuchSession, `no other session with ID ${id} exists in realm "${this.realm.name}"`);
      },
      'wamp.session.kill_by_authid': async (call) => {
        const authid = stringArg(call, 0, 'authid');
        const k = killRequest(call);
        const mine = this.killWhere((s) => s.authid === authid, call.session.id, k);
        const remote = await others<{ killed?: number[] }>({ kind: 'session.kill_by', authid, except: call.session.id, ...k });
        return { args: [[...mine, ...remote.flatMap((a) => a.killed ?? [])]] };
      },
      'wamp.session.kill_by_authrole': async (call) => {
        const authrole = stringArg(call, 0, 'authrole');
        const k = killRequest(call);
        const mine = this.killWhere((s) => s.authrole === authrole, call.session.id, k);
        const remote = await others<{ killed?: number[] }>({ kind: 'session.kill_by', authrole, except: call.session.id, ...k });
        return { args: [mine.length + remote.reduce((n, a) => n + (a.killed?.length ?? 0), 0)] };
      },
      'wamp.session.kill_all': async (call) => {
        const k = killRequest(call);
        const mine = this.killWhere(() => true, call.session.id, k, true);
        const remote = await others<{ killed?: number[] }>({ kind: 'session.kill_by', all: true, except: call.session.id, ...k });
        return { args: [mine.length + remote.reduce((n, a) => n + (a.killed?.length ?? 0), 0)] };
      },
    };
  }

  /** Answers to the same questions from other nodes, about this node's sessions only. */
  answers(): Record<string, Answerer> {
    const roles = (q: Dict) => (Array.isArray(q.authroles) ? (q.authroles as string[]) : undefined);
    const kill = (q: Dict): KillRequest => ({
      reason: typeof q.reason === 'string' ? q.reason : CloseUri.normal,
      message: typeof q.message === 'string' ? q.message : undefined,
    });
    return {
      'session.count': (q) => ({ count: this.local(roles(q)).length }),
      'session.list': (q) => ({ ids: this.local(roles(q)).map((s) => s.id) }),
      'session.get': (q) => {
        const s = this.realm.sessions.get(Number(q.id));
        return s && visible(s) ? { details: sessionDetails(s, this.node) } : {};
      },
      'session.kill': (q) => {
        const s = this.realm.sessions.get(Number(q.id));
        if (!s || !visible(s)) return { killed: false };
        this.kill(s, kill(q));
        return { killed: true };
      },
      'session.kill_by': (q) => {
        const test = q.all === true
          ? () => true
          : typeof q.authid === 'string'
            ? (s: Session) => s.authid === q.authid
            : (s: Session) => s.authrole === q.authrole;
        return { killed: this.killWhere(test, Number(q.except), kill(q), q.all === true) };
      },
    };
  }
}
