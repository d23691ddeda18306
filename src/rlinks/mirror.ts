/**
 * What both forwarding directions share: the watched router's subscriptions or registrations,
 * followed through the WAMP meta API as Crossbar.io's rlink does (`wamp.<kind>.list`/`get` once,
 * then `on_create`/`on_delete`), each mirrored on the other router by `open` and undone by `close`.
 */
import type { Logger } from 'pino';
import type { LocalClient } from '../client/local-client.js';
import type { Dict } from '../wamp/messages.js';

/** A subscription's or registration's meta details: `{id, uri, match, invoke?, created}`. */
export interface MetaDetails {
  readonly id: number;
  readonly uri: string;
  readonly match: 'exact' | 'prefix' | 'wildcard';
  readonly invoke?: string;
}

export interface MirrorOps {
  /** Mirrors `d` on the other router; resolves with the handle to undo it, undefined if nothing was made. */
  open(d: MetaDetails, creator: number): Promise<number | undefined>;
  close(handle: number): Promise<void>;
}

export class Mirror {
  /** Watched id → the other router's handle (undefined while it is being made or when none was made). */
  private readonly mirrored = new Map<number, number | undefined>();
  private stopped = false;

  constructor(
    private readonly watched: LocalClient,
    private readonly kind: 'subscription' | 'registration',
    private readonly ops: MirrorOps,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.watched.subscribe(`wamp.${this.kind}.on_create`, (args) => {
      const [session, d] = args ?? [];
      if (typeof session === 'number' && isDetails(d)) void this.created(d, session);
    });
    // A subscriber or callee joining one that exists already (made first by a link session, which
    // the meta API does not show, or created before we watched) is followed up here.
    await this.watched.subscribe(`wamp.${this.kind}.${this.kind === 'subscription' ? 'on_subscribe' : 'on_register'}`, (args) => {
      const [session, id] = args ?? [];
      if (typeof session === 'number' && typeof id === 'number' && !this.mirrored.has(id) && session !== this.watched.sessionId) void this.lookUp(id, session);
    });
    await this.watched.subscribe(`wamp.${this.kind}.on_delete`, (args) => {
      const id = args?.[1];
      if (typeof id === 'number') void this.deleted(id);
    });
    const list = (await this.watched.call(`wamp.${this.kind}.list`)).args?.[0] as Record<string, unknown> | undefined;
    for (const policy of ['exact', 'prefix', 'wildcard']) {
      const ids = list?.[policy];
      if (!Array.isArray(ids)) continue;
      for (const id of ids) {
        if (typeof id === 'number' && !this.mirrored.has(id)) await this.lookUp(id, 0);
      }
    }
  }

  private async lookUp(id: number, creator: number): Promise<void> {
    try {
      const d = (await this.watched.call(`wamp.${this.kind}.get`, [id])).args?.[0];
      if (isDetails(d)) await this.created(d, creator);
    } catch {
      // gone meanwhile
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async created(d: MetaDetails, creator: number): Promise<void> {
    if (this.stopped || d.uri.startsWith('wamp.') || this.mirrored.has(d.id)) return;
    this.mirrored.set(d.id, undefined);
    let handle: number | undefined;
    try {
      handle = await this.ops.open(d, creator);
    } catch (e) {
      this.log.debug({ uri: d.uri, err: (e as Error).message }, `rlink could not mirror a ${this.kind}`);
      return;
    }
    if (handle === undefined) return;
    // Deleted on the watched router while the mirror was being made: undo it.
    if (!this.mirrored.has(d.id) || this.stopped) return void this.ops.close(handle).catch(() => undefined);
    this.mirrored.set(d.id, handle);
  }

  private async deleted(id: number): Promise<void> {
    if (!this.mirrored.has(id)) return;
    const handle = this.mirrored.get(id);
    this.mirrored.delete(id);
    if (handle !== undefined && !this.stopped) await this.ops.close(handle).catch(() => undefined);
  }
}

function isDetails(d: unknown): d is MetaDetails {
  const x = d as Dict | null;
  return typeof x === 'object' && x !== null && typeof x.id === 'number' && typeof x.uri === 'string' &&
    (x.match === 'exact' || x.match === 'prefix' || x.match === 'wildcard');
}
