/**
 * Call latency percentiles through a real router: Autobahn|JS callers call a callee that answers
 * half the calls after 20 ms and half after 100 ms. /stats.json's p50 is a fast call's latency and
 * p90/p99 a slow one's — real percentiles over the last minute, each no more than the longest
 * round trip its caller measured (the router's time is part of the caller's), never a bucket bound.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NodeSnapshot } from '../../../src/stats/snapshot.js';
import { Clients, LIMIT, type MetaNode, startMetaNode } from '../meta/support.js';

const FAST_MS = 20;
const SLOW_MS = 100;
/** HDR values are within 0.1 %; plus a microsecond of rounding. */
const atMost = (v: number) => v * 1.001 + 0.001;

describe('call latency percentiles through a real router', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  before(async () => {
    t = await startMetaNode({ stats: { interval: 60_000 } });
    clients = new Clients(t.wsUrl);
  });
  after(async () => {
    await clients.closeAll();
    await t.stop();
  });

  it('reports p50 of the fast calls and p90/p99 of the slow ones', async () => {
    const callee = await clients.connect();
    const caller = await clients.connect();
    await callee.register('com.lab.measure', (args) => new Promise((resolve) => setTimeout(() => resolve(args[0]), args[0] as number)));
    const roundTrips: Record<number, number[]> = { [FAST_MS]: [], [SLOW_MS]: [] };
    for (const delay of [FAST_MS, SLOW_MS]) {
      await Promise.all(Array.from({ length: 10 }, async () => {
        const start = performance.now();
        await caller.call('com.lab.measure', [delay]);
        roundTrips[delay]!.push(performance.now() - start);
      }));
    }
    const s = (await (await fetch(`${t.http}/stats.json`)).json()) as NodeSnapshot;
    const l = s.realms[0]!.call_latency;
    assert.equal(l.window_s, 60);
    assert.equal(l.window_count, 20);
    assert.equal(l.count, 20);
    const fastMax = Math.max(...roundTrips[FAST_MS]!);
    const slowMax = Math.max(...roundTrips[SLOW_MS]!);
    // A timer may fire up to a millisecond early.
    assert.ok(l.p50_ms! >= FAST_MS - 1 && l.p50_ms! <= atMost(fastMax), `p50 ${l.p50_ms} within [${FAST_MS - 1}, ${fastMax}]`);
    for (const p of [l.p90_ms!, l.p99_ms!, l.max_ms!]) {
      assert.ok(p >= SLOW_MS - 1 && p <= atMost(slowMax), `p90/p99/max ${p} within [${SLOW_MS - 1}, ${slowMax}]`);
    }
    assert.ok(l.mean_ms! > l.p50_ms! && l.mean_ms! < l.p99_ms!, `mean ${l.mean_ms} between p50 and p99`);
    // Prometheus still gets the cumulative buckets: every call is in +Inf, none at or under 10 ms.
    assert.equal(l.buckets.at(-1)!.count, 20);
    assert.equal(l.buckets.find((b) => b.le === 10)!.count, 0);
  });
});
