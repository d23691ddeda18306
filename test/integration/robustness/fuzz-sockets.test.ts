/**
 * A seeded fuzz loop over real sockets: hundreds of connections (WebSocket and RawSocket, every
 * serializer, before or after HELLO) each send a random mutation of a valid message and then
 * GOODBYE (or just vanish), while a healthy Autobahn pair on the same node must receive every event. Each fuzz
 * connection must end (ABORT with a readable message, or the GOODBYE handshake), and afterwards the
 * node holds nothing of them: connection count, realm sessions and subscriptions are back to the
 * healthy pair's, and new sessions are still accepted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SERIALIZERS, connectAutobahn } from '../../helpers/clients.js';
import { type TestNode, startNode } from '../../helpers/node.js';
import { Code, type RawClient, RawSocketClient, RawWsClient } from '../../helpers/raw-wamp.js';
import { mutate, pick, seededRandom, validSamples } from '../../helpers/wamp-samples.js';
import { HealthyPair } from './support.js';
import { eventually } from '../../helpers/eventually.js';

const CONNECTIONS = 600;
const CONCURRENCY = 30;
const SEED = 0xf022;

let t: TestNode;
let healthy: HealthyPair;

before(async () => {
  t = await startNode({ session: { maxMessageSize: 256 * 1024, helloTimeout: 5000 } });
  healthy = await HealthyPair.start(t.wsUrl, 'msgpack');
  healthy.startPump();
});

after(async () => {
  await healthy?.close();
  await t?.stop();
});

interface Outcome {
  readonly label: string;
  /** ABORT reason, 'goodbye' for the closing handshake, 'closed' for a bare close, 'dropped' by the client. */
  readonly end: string;
  readonly abortMessage?: unknown;
  /** ERROR replies the connection got before it ended. */
  readonly errors: number;
}

/** What a client may send: HELLO before the session, requests and answers after it. */
const SAMPLES = validSamples();
const BEFORE_HELLO = SAMPLES.filter((m) => m[0] === Code.HELLO);
const CLIENT_CODES: ReadonlySet<unknown> = new Set([6, 8, 16, 32, 34, 48, 49, 64, 66, 70]);
const AFTER_HELLO = SAMPLES.filter((m) => CLIENT_CODES.has(m[0]));

async function fuzzOne(i: number, random: () => number): Promise<Outcome> {
  const serializer = SERIALIZERS[i % 3]!;
  const overWs = i % 2 === 0;
  const hello = random() < 0.6;
  // Mostly mutations of what a client may send at that point, so they reach the broker and dealer.
  const samples = random() < 0.8 ? (hello ? AFTER_HELLO : BEFORE_HELLO) : SAMPLES;
  const mutation = mutate(random, pick(random, samples));
  const label = `#${i} ${overWs ? 'websocket' : 'rawsocket'}/${serializer}${hello ? ' after HELLO' : ''}: ${JSON.stringify(mutation)?.slice(0, 200)}`;
  const c: RawClient = overWs ? await RawWsClient.open(t.wsUrl, { serializer }) : await RawSocketClient.open(t.rawPort, { serializer });
  if (hello) await c.hello();
  c.send(mutation);
  if (random() < 0.2) {
    // Some peers just vanish: the router must clean up after them too.
    c.destroy();
    return { label, end: 'dropped', errors: 0 };
  }
  c.send([Code.GOODBYE, {}, 'wamp.close.close_realm']);
  const ended = await Promise.race([
    c.ended,
    new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000).unref()),
  ]);
  if (ended === 'hung') {
    c.destroy();
    assert.fail(`${label}: the router neither closed nor aborted within 5 s; got ${JSON.stringify(c.received)}`);
  }
  const errors = c.received.filter((m) => m[0] === Code.ERROR).length;
  const abort = c.received.find((m) => m[0] === Code.ABORT);
  if (abort) return { label, end: abort[2] as string, abortMessage: (abort[1] as Record<string, unknown>).message, errors };
  // 'closed': the mutation was a valid ABORT from the client, which the router answers by closing.
  return { label, end: c.received.some((m) => m[0] === Code.GOODBYE) ? 'goodbye' : 'closed', errors };
}

describe('fuzzing over real sockets', () => {
  it(`ends each of ${CONNECTIONS} connections that send a mutated message cleanly, and nothing else breaks`, { timeout: 60_000 }, async (ctx) => {
    const random = seededRandom(SEED);
    // Inputs are drawn up front, in order, so the run is the same whatever the interleaving.
    const seeds = Array.from({ length: CONNECTIONS }, () => Math.floor(random() * 2 ** 32));
    const outcomes: Outcome[] = [];
    for (let start = 0; start < CONNECTIONS; start += CONCURRENCY) {
      const batch = seeds.slice(start, start + CONCURRENCY).map((s, k) => fuzzOne(start + k, seededRandom(s)));
      outcomes.push(...(await Promise.all(batch)));
    }

    const tally = new Map<string, number>();
    for (const o of outcomes) {
      tally.set(o.end, (tally.get(o.end) ?? 0) + 1);
      if (o.end.startsWith('wamp.error.')) {
        assert.equal(typeof o.abortMessage, 'string', `${o.label}: ABORT without a message`);
        assert.ok((o.abortMessage as string).length > 0, o.label);
        assert.ok(!(o.abortMessage as string).startsWith('malformed message:'), `${o.label}: internal decoder error: ${String(o.abortMessage)}`);
        assert.notEqual(o.end, 'wamp.error.internal_error', `${o.label}: ${String(o.abortMessage)}`);
      } else {
        assert.ok(['goodbye', 'closed', 'dropped'].includes(o.end), `${o.label}: ended with ${o.end}`);
      }
    }
    ctx.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries(tally))}; ERROR replies: ${outcomes.reduce((n, o) => n + o.errors, 0)}`);
    for (const o of outcomes.filter((x) => x.end === 'closed')) ctx.diagnostic(`closed without ABORT or GOODBYE: ${o.label}`);
    assert.ok((tally.get('wamp.error.protocol_violation') ?? 0) > CONNECTIONS / 3, JSON.stringify([...tally]));
    assert.ok((tally.get('goodbye') ?? 0) > 0, 'no mutation was valid: the fuzz is too blunt');

    // The healthy pair never missed an event.
    await healthy.stopPump();
    healthy.assertComplete();
    ctx.diagnostic(`healthy events delivered during the fuzz: ${healthy.received.length}`);

    // Nothing of the fuzz connections is left in the router.
    await eventually(() => t.node.router.connectionCount === 2, `connectionCount back to 2 (is ${t.node.router.connectionCount})`);
    const realm = t.node.router.realm('realm1')!;
    assert.equal(realm.sessions.size, 2);
    assert.equal(realm.broker.subscriptionCount, 1);

    // And it still takes new sessions, raw and stock.
    const fresh = await RawSocketClient.open(t.rawPort, { serializer: 'cbor' });
    await fresh.hello();
    await fresh.goodbye();
    const stock = await connectAutobahn(t.wsUrl);
    await stock.close();
    await healthy.probe();
  });
});
