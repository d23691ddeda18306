/**
 * Node loss behind HAProxy (issue: scale-out, acceptance "failover"): 3 xbar processes over one
 * nats-server behind HAProxy (least connections, health checks); Autobahn|JS clients with
 * auto-reconnect call and publish continuously; one node is killed with SIGKILL. Every client
 * is back within 5 s, no call goes without an outcome, and the dead node's registrations are gone
 * cluster-wide within dead-after (1 s) + 0.5 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autobahn from 'autobahn';
import { startHaproxy, type Haproxy } from '../helpers/haproxy.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';
import { startXbarProcess, type XbarProcess } from '../helpers/xbar-process.js';
import { eventually } from '../helpers/eventually.js';
import '../helpers/clients.js';

const DEAD_AFTER = 1000;

interface Client {
  readonly name: string;
  connection: autobahn.Connection;
  session: autobahn.Session | undefined;
  node: string;
  opens: number;
  lastOpen: number;
}

function reconnecting(url: string, name: string, onopen: (s: autobahn.Session, c: Client) => void): Promise<Client> {
  return new Promise((resolve) => {
    const connection = new autobahn.Connection({
      url, realm: 'realm1', max_retries: -1, initial_retry_delay: 0.05, max_retry_delay: 0.3, retry_delay_growth: 1.3,
      retry_if_unreachable: true,
    });
    const c: Client = { name, connection, session: undefined, node: '', opens: 0, lastOpen: 0 };
    connection.onopen = (session, details) => {
      c.session = session;
      c.node = String(details.x_xbar_node ?? '');
      c.opens++;
      c.lastOpen = Date.now();
      onopen(session, c);
      resolve(c);
    };
    connection.onclose = () => {
      c.session = undefined;
      return false; // keep retrying
    };
    connection.open();
  });
}

/**
 * How a request ended: answered, failed, or — Autobahn|JS never settles the requests of a
 * connection that dropped (its node was the one killed) — abandoned with the connection. A
 * request still open after 4 s on a live connection is hung: the router failed it.
 */
async function outcome(s: autobahn.Session, request: PromiseLike<unknown>): Promise<'ok' | 'failed' | 'abandoned' | 'hung'> {
  let done = false;
  const answered = Promise.resolve(request).then(() => 'ok' as const, () => 'failed' as const).finally(() => (done = true));
  const watch = (async () => {
    const until = Date.now() + 4000;
    while (!done && Date.now() < until) {
      if (!s.isOpen) return 'abandoned' as const;
      await new Promise((r) => setTimeout(r, 20));
    }
    return 'hung' as const;
  })();
  return Promise.race([answered, watch]);
}

describe('cluster failover behind HAProxy', { timeout: 60_000 }, () => {
  let nats: NatsServer[];
  let nodes: XbarProcess[];
  let haproxy: Haproxy;
  const clients: Client[] = [];

  before(async () => {
    nats = await startNats(1);
    const cluster = `ha${process.pid}`;
    nodes = await Promise.all(['x1', 'x2', 'x3'].map((name) => startXbarProcess({ name, natsUrls: nats.map((n) => n.url), cluster, deadAfterMs: DEAD_AFTER })));
    haproxy = await startHaproxy(nodes.map((n) => ({ name: n.name, port: n.webPort })), '/health/ready');
  });

  after(async () => {
    for (const c of clients) c.connection.close();
    await haproxy?.stop();
    await Promise.all(nodes?.map((n) => n.kill('SIGTERM')) ?? []);
    await stopNats(nats ?? []);
  });

  it('brings every client back within 5 s of a kill -9, answers every call, and drops the dead node\'s registrations', async () => {
    const url = `ws://127.0.0.1:${haproxy.port}/ws`;
    // Callees (roundrobin, re-registered on every reconnect) spread over the nodes by leastconn.
    for (let i = 0; i < 3; i++) {
      clients.push(await reconnecting(url, `callee${i}`, (s) => void s.register('com.ha.work', () => i, { invoke: 'roundrobin' })));
    }
    // A session that owns a single registration once; its node is the one we kill.
    const owner = await reconnecting(url, 'owner', () => undefined);
    clients.push(owner);
    await owner.session!.register('com.ha.single', () => 'owner');
    const victim = nodes.find((n) => owner.node === n.name)!;
    assert.ok(victim, `owner is on ${owner.node}`);

    // Callers and publishers work continuously; every call must settle (timeout 1.5 s).
    const outcomes = { ok: 0, failed: 0, hung: 0, abandoned: 0, published: 0 };
    let running = true;
    const okAfter = new Map<string, number>();
    const loops: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await reconnecting(url, `caller${i}`, () => undefined);
      clients.push(c);
      loops.push((async () => {
        while (running) {
          const s = c.session;
          if (!s?.isOpen) {
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          const settled = await outcome(s, s.call('com.ha.work', [], {}, { timeout: 1500 }));
          outcomes[settled]++;
          if (settled === 'ok') okAfter.set(c.name, Date.now());
          const p = s.isOpen ? s.publish('com.ha.tick', [i], {}, { acknowledge: true }) : undefined;
          if (p && (await outcome(s, p)) === 'ok') outcomes.published++;
        }
      })());
    }
    await eventually(() => outcomes.ok >= 60, '60 answered calls', 30_000);
    // Ready on a node that survives, to measure the registry alone after the kill.
    const taker = await reconnecting(nodes.find((n) => n !== victim)!.url, 'taker', () => undefined);
    clients.push(taker);

    const killedAt = Date.now();
    await victim.kill('SIGKILL');

    // The single registration of the dead node's session goes cluster-wide: another session can take it.
    let freedAt = 0;
    while (!freedAt) {
      try {
        await taker.session!.register('com.ha.single', () => 'taker');
        freedAt = Date.now();
      } catch (e) {
        assert.equal((e as autobahn.Error).error, 'wamp.error.procedure_already_exists');
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    // Every client is back: open on a live node, and every caller has answers again.
    const back = async () => {
      for (;;) {
        const now = Date.now();
        const open = clients.every((c) => c.session?.isOpen && c.node !== victim.name);
        const answering = [0, 1, 2].every((i) => (okAfter.get(`caller${i}`) ?? 0) > killedAt);
        if (open && answering) return now;
        if (now - killedAt > 10_000) return now;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const backAt = await back();
    running = false;
    await Promise.all(loops);

    const recovery = backAt - killedAt;
    const freed = freedAt - killedAt;
    console.log(`# failover: clients back ${recovery} ms after kill -9; single registration free after ${freed} ms; calls ${JSON.stringify(outcomes)}`);
    assert.ok(recovery <= 5000, `clients back after ${recovery} ms`);
    assert.ok(freed <= DEAD_AFTER + 500 + 500, `registration freed after ${freed} ms (dead-after ${DEAD_AFTER} ms)`);
    assert.equal(outcomes.hung, 0, 'no call went without an outcome');
    assert.equal(await taker.session!.call('com.ha.single'), 'taker');
  });
});
