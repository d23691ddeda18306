/**
 * The node process's figures: /metrics carries prom-client's default metrics (CPU, resident
 * memory, heap, event-loop lag, GC) after the node's own, all accepted by a strict Prometheus
 * parser; /stats.json carries the same kinds of figure per sampling interval for the page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NodeSnapshot } from '../../../src/stats/snapshot.js';
import { eventually } from '../../helpers/eventually.js';
import { LIMIT, type MetaNode, startMetaNode } from '../meta/support.js';
import { parsePrometheusText, valueOf } from './prometheus-text.js';

/** Enough short-lived garbage for a few young-generation collections. */
function makeGarbage(): number {
  let n = 0;
  for (let i = 0; i < 200_000; i++) n += [i, { i }, `x${i}`].length;
  return n;
}

describe('process figures', LIMIT, () => {
  let t: MetaNode;
  before(async () => {
    t = await startMetaNode({ stats: { interval: 100 } });
  });
  after(async () => {
    await t.stop();
  });

  it('exports CPU, memory, heap, event-loop lag and GC in /metrics', async () => {
    makeGarbage();
    const families = await eventually(async () => {
      const f = parsePrometheusText(await (await fetch(`${t.http}/metrics`)).text());
      const gcs = f.get('nodejs_gc_duration_seconds')?.samples.filter((s) => s.name === 'nodejs_gc_duration_seconds_count') ?? [];
      return gcs.some((s) => s.value > 0) && f;
    }, 'a GC counted in /metrics');
    assert.equal(families.get('process_cpu_seconds_total')?.type, 'counter');
    assert.ok(valueOf(families, 'process_cpu_user_seconds_total', 'process_cpu_user_seconds_total')! > 0);
    const rss = valueOf(families, 'process_resident_memory_bytes', 'process_resident_memory_bytes')!;
    assert.ok(rss > 10 * 1024 * 1024 && rss < 64 * 1024 * 1024 * 1024, `rss ${rss}`);
    assert.ok(valueOf(families, 'nodejs_heap_size_used_bytes', 'nodejs_heap_size_used_bytes')! > 0);
    assert.equal(families.get('nodejs_eventloop_lag_p99_seconds')?.type, 'gauge');
    assert.equal(families.get('nodejs_gc_duration_seconds')?.type, 'histogram');
    // The node's own metrics are still there, once.
    assert.equal(valueOf(families, 'xbar_up', 'xbar_up'), 1);
  });

  it('reports CPU, memory, event-loop lag and GC per interval in /stats.json', async () => {
    const first = (await (await fetch(`${t.http}/stats.json`)).json()) as NodeSnapshot;
    makeGarbage();
    const s = await eventually(async () => {
      const x = (await (await fetch(`${t.http}/stats.json`)).json()) as NodeSnapshot;
      return x.process.gc_count > first.process.gc_count && x.process.cpu_percent !== null && x.process.event_loop_lag_p99_ms !== null && x;
    }, 'an interval with a GC in /stats.json');
    const p = s.process;
    assert.equal(p.pid, process.pid);
    assert.ok(p.rss_bytes > 10 * 1024 * 1024, `rss ${p.rss_bytes}`);
    assert.ok(p.heap_used_bytes > 0 && p.heap_used_bytes <= p.heap_total_bytes);
    assert.ok(p.cpu_percent! >= 0, `cpu ${p.cpu_percent}`);
    assert.ok(p.event_loop_lag_p99_ms! > 0 && p.event_loop_lag_max_ms! >= p.event_loop_lag_p99_ms!);
    assert.ok(p.gc_ms_per_s! >= 0);
  });
});
