/**
 * Interop: Autobahn|JS and wampy over WebSocket with each of json, msgpack and cbor, and
 * Autobahn|JS over RawSocket (TCP, json), exchange events whose args and kwargs arrive intact:
 * unicode, nested containers, bytes (JSON's "\0"+base64 on one side, native bytes on the other),
 * integers to ±2^53, floats, empty payloads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Wampy } from 'wampy';
import { connectAutobahn, connectWampy, type AutobahnClient, type SerializerName } from '../../helpers/clients.js';
import { startNode, type TestNode } from '../../helpers/node.js';
import {
  autobahnInbox, bytesAsBuffer, bytesAsJson, comparable, Inbox, LIMIT, wampyInbox, type ReceivedEvent,
} from './support.js';

const BYTES = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);

const RICH_ARGS: unknown[] = [
  'plain ascii',
  'héllo wörld · ελληνικά · 中文 · עברית',
  'astral plane: 😀🎉 𝄞 𠜎',
  '',
  'a\u0000b', // a NUL that is not in front does not make a JSON string binary
  0, 1, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, 2 ** 40, -(2 ** 40),
  2 ** 53 - 1, 2 ** 53, -(2 ** 53),
  0.5, -1.25, Math.PI, 1e-300, 1.7976931348623157e308, -2.5e-10,
  true, false, null,
  [], {},
  { a: { b: [1, { c: 'd' }, [[['deep']]]] }, 'ключ': 'значение', '😀': ['🎉'] },
  BYTES,
  new Uint8Array(0),
  Buffer.from('xbar ✓ bytes', 'utf8'),
];

const RICH_KWARGS: Record<string, unknown> = {
  text: 'grüße 👋🏽',
  max: 2 ** 53,
  min: -(2 ** 53),
  zero: 0,
  float: 0.1,
  bytes: BYTES,
  nested: { list: [BYTES, { deeper: BYTES, n: null }], empty: {} },
  'unicode key ✓': '😀',
  '': 'empty key',
};

interface Case {
  name: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
}

const CASES: Case[] = [
  { name: 'args and kwargs', args: RICH_ARGS, kwargs: RICH_KWARGS },
  { name: 'no payload at all' },
  { name: 'an empty args list', args: [] },
  { name: 'kwargs only', kwargs: { only: 'kwargs', n: -7, bytes: BYTES } },
];

/** A connected client, seen the same way whatever its library. */
interface Peer {
  readonly name: string;
  readonly serializer: SerializerName;
  /** Acknowledged publish; resolves on PUBLISHED. */
  publish(topic: string, args?: unknown[], kwargs?: Record<string, unknown>): Promise<void>;
  subscribe(topic: string): Promise<Inbox<ReceivedEvent>>;
  close(): Promise<void>;
}

function autobahnPeer(name: string, serializer: SerializerName, c: AutobahnClient): Peer {
  return {
    name, serializer,
    async publish(topic, args, kwargs) {
      await c.session.publish(topic, args, kwargs, { acknowledge: true });
    },
    async subscribe(topic) {
      return (await autobahnInbox(c.session, topic)).inbox;
    },
    close: () => c.close(),
  };
}

function wampyPeer(name: string, serializer: SerializerName, c: Wampy): Peer {
  return {
    name, serializer,
    async publish(topic, args, kwargs) {
      // wampy always asks for acknowledgement.
      if (args === undefined && kwargs === undefined) await c.publish(topic);
      else if (kwargs === undefined) await c.publish(topic, args);
      else await c.publish(topic, { argsList: args, argsDict: kwargs });
    },
    async subscribe(topic) {
      return (await wampyInbox(c, topic)).inbox;
    },
    close: async () => {
      await c.disconnect();
    },
  };
}

/** What a publisher with this serializer puts on the wire for `v`: JSON has no bytes type. */
function asSent(v: unknown, serializer: SerializerName): unknown {
  if (v === undefined) return undefined;
  return serializer === 'json' ? bytesAsJson(v) : bytesAsBuffer(v);
}

/** What a receiver with this serializer must get for `v`, in `comparable` form. */
function asReceived(v: unknown, serializer: SerializerName): unknown {
  return comparable(serializer === 'json' ? bytesAsJson(v) : v);
}

const topicFor = (peer: Peer): string => `interop.to.${peer.name.replace(/[^a-z0-9]+/g, '_')}`;

describe('pub/sub interop between Autobahn|JS and wampy over every serializer and transport', () => {
  let node: TestNode;
  const peers: Peer[] = [];
  /** Each peer's own topic, and the topic every peer subscribes to. */
  const direct = new Map<Peer, Inbox<ReceivedEvent>>();
  const shared = new Map<Peer, Inbox<ReceivedEvent>>();

  const NAMES = [
    'autobahn/json', 'autobahn/msgpack', 'autobahn/cbor', 'autobahn/rawsocket-json',
    'wampy/json', 'wampy/msgpack', 'wampy/cbor',
  ];

  before(async () => {
    node = await startNode();
    for (const s of ['json', 'msgpack', 'cbor'] as const) {
      peers.push(autobahnPeer(`autobahn/${s}`, s, await connectAutobahn(node.wsUrl, { serializer: s })));
    }
    peers.push(autobahnPeer('autobahn/rawsocket-json', 'json', await connectAutobahn(node.wsUrl, { rawsocketPort: node.rawPort })));
    for (const s of ['json', 'msgpack', 'cbor'] as const) {
      peers.push(wampyPeer(`wampy/${s}`, s, await connectWampy(node.wsUrl, s)));
    }
    for (const p of peers) {
      direct.set(p, await p.subscribe(topicFor(p)));
      shared.set(p, await p.subscribe('interop.all'));
    }
  }, LIMIT);

  after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await node?.stop();
  }, LIMIT);

  for (const from of NAMES) {
    for (const to of NAMES) {
      if (from === to) continue;
      it(`delivers args and kwargs intact from ${from} to ${to}`, LIMIT, async () => {
        const pub = peers.find((p) => p.name === from)!;
        const sub = peers.find((p) => p.name === to)!;
        for (const c of CASES) {
          await pub.publish(topicFor(sub), asSent(c.args, pub.serializer) as unknown[] | undefined, asSent(c.kwargs, pub.serializer) as Record<string, unknown> | undefined);
        }
        for (const c of CASES) {
          const ev = await direct.get(sub)!.next(5000, `event (${c.name})`);
          assert.deepEqual(comparable(ev.args), asReceived(c.args ?? [], sub.serializer), `args, ${c.name}`);
          assert.deepEqual(comparable(ev.kwargs), asReceived(c.kwargs ?? {}, sub.serializer), `kwargs, ${c.name}`);
        }
      });
    }
  }

  it('delivers one publication intact to subscribers of every serializer at once', LIMIT, async () => {
    for (const pub of peers) {
      await pub.publish('interop.all', asSent(RICH_ARGS, pub.serializer) as unknown[], asSent(RICH_KWARGS, pub.serializer) as Record<string, unknown>);
      for (const sub of peers) {
        if (sub === pub) continue; // exclude_me is on by default
        const ev = await shared.get(sub)!.next(5000, `event from ${pub.name} at ${sub.name}`);
        assert.deepEqual(comparable(ev.args), asReceived(RICH_ARGS, sub.serializer), `args from ${pub.name} at ${sub.name}`);
        assert.deepEqual(comparable(ev.kwargs), asReceived(RICH_KWARGS, sub.serializer), `kwargs from ${pub.name} at ${sub.name}`);
      }
    }
    for (const p of peers) assert.equal(shared.get(p)!.pending.length, 0, `${p.name} got a stray event`);
  });
});
