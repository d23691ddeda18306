/**
 * Calls across nodes (design/cluster.md §4). An invocation travels to the callee's node inbox
 * `P.nd.<node>.inv` with a reply subject on the caller's node, `P.nd.<node>.rep.<call>`; further
 * chunks and cancels follow on the inbox, answers come back on the reply subject. A node that no
 * longer exists answers 503 (no responders), which makes the call safe to reroute.
 *
 * Guarantee (backplane.ts): the caller's sink gets exactly one final outcome, also when the
 * callee's node dies (then `wamp.error.canceled`).
 */
import type { Msg, NatsConnection } from 'nats';
import { ErrorUri } from '../../wamp/errors.js';
import { type CancelMode, type Content, textContent } from '../../wamp/messages.js';
import type { BackplaneHandlers, CallHandle, RemoteInvocation, ReplyPort, ReplySink } from '../backplane.js';
import {
  decodeInbox, decodeReply, encodeCancel, encodeChunk, encodeError, encodeInvoke, encodeProgress, encodeReject, encodeResult, FrameKind,
} from './frame.js';
import { sequenceBase } from './events.js';
import type { NatsLink } from './link.js';
import type { Membership } from './membership.js';

const NO_HANDLE: CallHandle = { chunk: () => undefined, cancel: () => undefined };

export class NatsRpc {
  /** The last call number; like event sequences it starts above any earlier run of this node's name (a late answer to that run's call must not answer one of ours). */
  private callSeq = sequenceBase();
  /** Calls this node sent to another node's callee, by call number. */
  private readonly pending = new Map<number, { readonly node: string; readonly sink: ReplySink }>();
  /** Invocations other nodes sent to this node's callees, by `<origin>/<call>`. */
  private readonly served = new Map<string, { readonly origin: string; readonly handle: CallHandle }>();

  constructor(
    private readonly link: NatsLink,
    private readonly membership: Membership,
    private readonly handlers: () => BackplaneHandlers | undefined,
  ) {}

  start(nc: NatsConnection): void {
    const s = this.link.subjects;
    this.link.subscribe(nc, s.nodeInbox(this.link.nodeId), (msg) => this.inbox(msg));
    this.link.subscribe(nc, `${s.nodeReplies(this.link.nodeId)}.*`, (msg) => this.reply(msg));
  }

  invoke(node: string, inv: RemoteInvocation, sink: ReplySink): CallHandle {
    const nc = this.link.open();
    const call = ++this.callSeq;
    const inbox = this.link.subjects.nodeInbox(node);
    const self = this.link.nodeId;
    if (!nc || this.membership.isGone(node)) {
      queueMicrotask(() => sink.undelivered('gone'));
      return NO_HANDLE;
    }
    this.pending.set(call, { node, sink });
    nc.publish(inbox, encodeInvoke(self, call, inv), { reply: `${this.link.subjects.nodeReplies(self)}.${call}` });
    return {
      chunk: (content: Content, last: boolean) => {
        if (this.pending.has(call)) nc.publish(inbox, encodeChunk(self, call, last, content));
      },
      cancel: (mode: CancelMode, reason?: string) => {
        // skip: the callee is not told; its late answer finds no pending call here and is dropped.
        if (mode !== 'skip' && this.pending.has(call)) nc.publish(inbox, encodeCancel(self, call, mode, reason));
        if (mode !== 'kill') this.pending.delete(call);
      },
    };
  }

  /** An answer from the callee's node to one of our calls. */
  private reply(msg: Msg): void {
    const call = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    const p = this.pending.get(call);
    if (!p) return; // answered, canceled or lost already: a late answer is dropped
    // NATS answers 503 when nobody listens on the callee node's inbox: never delivered.
    if (msg.headers?.code === 503 || msg.data.length === 0) {
      this.pending.delete(call);
      return p.sink.undelivered('gone');
    }
    const f = decodeReply(msg.data);
    this.membership.seen(p.node);
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

  /** An invocation, chunk or cancel from a caller's node for one of our callees. */
  private inbox(msg: Msg): void {
    const f = decodeInbox(msg.data);
    const key = `${f.origin}/${f.call}`;
    this.membership.seen(f.origin);
    switch (f.kind) {
      case FrameKind.invoke: {
        const handlers = this.handlers();
        const reply = msg.reply;
        const nc = this.link.open();
        if (!reply) return this.link.complaints.warn('invoke-no-reply', { origin: f.origin }, 'invocation without a reply subject dropped');
        if (!nc || !handlers) return; // stopping
        let done = false;
        const send = (data: Uint8Array, final: boolean) => {
          if (done) return;
          if (final) {
            done = true;
            this.served.delete(key);
          }
          nc.publish(reply, data);
        };
        const port: ReplyPort = {
          progress: (answer) => send(encodeProgress(answer), false),
          result: (answer) => send(encodeResult(answer), true),
          error: (uri, answer, d) => send(encodeError(uri, d, answer), true),
          reject: (why) => send(encodeReject(why), true),
        };
        let handle: CallHandle;
        try {
          handle = handlers.invocation(f.inv, port);
        } catch (err) {
          // A router bug: the caller still gets its one answer.
          this.link.log.error({ err, procedure: f.inv.procedure }, 'handling an invocation from another node failed');
          return port.error(ErrorUri.internalError, textContent('the callee\'s node failed to handle the invocation'), {});
        }
        if (!done) this.served.set(key, { origin: f.origin, handle });
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

  /** A node died: calls to it fail, invocations it asked for stop. */
  nodeLost(node: string): void {
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
  }
}
