/**
 * The backplanes the contract suite runs against, and a recorder of what reaches a node through
 * its `BackplaneHandlers`. A kind starts a group of nodes that form one cluster: LocalBackplane
 * is one node only (its contract: no other node exists), NatsBackplane any number over a real
 * nats-server the suite starts on a free loopback port, HubBackplane the workers of one node
 * over a real hub on a Unix socket (a new hub for each cluster).
 */
import pino from 'pino';
import type {
  Backplane, BackplaneHandlers, CallHandle, ClusterReg, EventOut, RemoteInvocation, ReplyPort, StoredTestament,
} from '../../src/backplane/backplane.js';
import { LocalBackplane } from '../../src/backplane/local/local-backplane.js';
import { NatsBackplane } from '../../src/backplane/nats/nats-backplane.js';
import { BackplaneHub } from '../../src/backplane/hub/hub.js';
import { HubBackplane } from '../../src/backplane/hub/hub-backplane.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MatchPolicy } from '../../src/wamp/uri.js';
import type { Content, Dict } from '../../src/wamp/messages.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';

/** Everything a node heard, in order. */
export class Recorder implements BackplaneHandlers {
  readonly events: EventOut[] = [];
  readonly changes: { realm: string; uri: string; match: MatchPolicy; reg: ClusterReg | undefined }[] = [];
  readonly down: string[] = [];
  readonly orphaned: { realm: string; testaments: readonly StoredTestament[] }[] = [];
  readonly invocations: { inv: RemoteInvocation; port: ReplyPort; chunks: unknown[][]; contents: Content[]; cancels: string[] }[] = [];
  /** How this node answers another node's meta query. */
  answer: (realm: string, query: Dict) => Dict | undefined = () => undefined;
  /** How this node's callees take an invocation; by default it is only recorded. */
  invoked: (inv: RemoteInvocation, port: ReplyPort) => void = () => undefined;

  orphanedTestaments(realm: string, testaments: readonly StoredTestament[]): void {
    this.orphaned.push({ realm, testaments });
  }

  event(ev: EventOut): void {
    this.events.push(ev);
  }

  metaQuery(realm: string, query: Dict): Dict | undefined {
    return this.answer(realm, query);
  }

  invocation(inv: RemoteInvocation, port: ReplyPort): CallHandle {
    const record = { inv, port, chunks: [] as unknown[][], contents: [] as Content[], cancels: [] as string[] };
    this.invocations.push(record);
    this.invoked(inv, port);
    return {
      chunk: (content, last) => {
        record.contents.push(content);
        record.chunks.push([...(content.args ?? []), last]);
      },
      cancel: (mode, reason) => void record.cancels.push(reason ? `${mode}:${reason}` : mode),
    };
  }

  registryChanged(realm: string, uri: string, match: MatchPolicy, reg: ClusterReg | undefined): void {
    this.changes.push({ realm, uri, match, reg });
  }

  memberDown(node: string): void {
    this.down.push(node);
  }

  /** The last registration `uri` was changed to, as this node saw it. */
  last(uri: string): ClusterReg | undefined {
    return this.changes.findLast((c) => c.uri === uri)?.reg;
  }
}

export interface BackplaneNode {
  readonly bp: Backplane;
  readonly heard: Recorder;
}

export interface BackplaneKind {
  readonly name: string;
  /** Most nodes one cluster of this kind can have. */
  readonly maxNodes: number;
  /** Called once before the suite (starts what the kind needs). */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** `count` started nodes of one new cluster, isolated from every other the suite starts. */
  cluster(count: number): Promise<BackplaneNode[]>;
}

const log = pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' });

async function started(bp: Backplane): Promise<BackplaneNode> {
  const heard = new Recorder();
  await bp.start(heard);
  return { bp, heard };
}

export const localKind: BackplaneKind = {
  name: 'LocalBackplane',
  maxNodes: 1,
  setUp: async () => undefined,
  tearDown: async () => undefined,
  cluster: async (count) => {
    if (count > 1) throw new Error('LocalBackplane is one node only');
    return [await started(new LocalBackplane())];
  },
};

export function natsKind(): BackplaneKind & { readonly servers: () => readonly NatsServer[] } {
  let servers: NatsServer[] = [];
  let clusters = 0;
  return {
    name: 'NatsBackplane',
    maxNodes: Infinity,
    servers: () => servers,
    setUp: async () => {
      servers = await startNats(1);
    },
    tearDown: () => stopNats(servers),
    cluster: async (count) => {
      const cluster = `c${process.pid}x${++clusters}`;
      const nodes: BackplaneNode[] = [];
      // One after the other: node ids sort in start order, so the first node is the reaper.
      for (let i = 0; i < count; i++) {
        const bp = new NatsBackplane({ servers: servers.map((s) => s.url), cluster, name: `n${i}`, heartbeatMs: 100, deadAfterMs: 600 }, log);
        nodes.push(await started(bp));
      }
      return nodes;
    },
  };
}

/** `direct: false`: calls between workers are relayed by the hub instead of going worker to worker. */
export function hubKind(o: { direct?: boolean } = {}): BackplaneKind {
  let hubs: BackplaneHub[] = [];
  return {
    name: o.direct === false ? 'HubBackplane, calls relayed by the hub' : 'HubBackplane',
    maxNodes: Infinity,
    setUp: async () => undefined,
    tearDown: async () => {
      await Promise.all(hubs.map((h) => h.stop()));
      hubs = [];
    },
    cluster: async (count) => {
      const hub = new BackplaneHub(join(tmpdir(), `xbar-hub-${process.pid}-${hubs.length}.sock`), log);
      hubs.push(hub);
      await hub.start();
      const nodes: BackplaneNode[] = [];
      // Names sort in start order, so the first worker is the one that publishes a lost one's testaments.
      for (let i = 0; i < count; i++) nodes.push(await started(new HubBackplane({ path: hub.path, name: `w${i}`, ...o }, log)));
      return nodes;
    },
  };
}
