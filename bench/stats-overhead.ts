/**
 * stats: what statistics cost on the hot path. The fanout scenario (1 publisher → 1,000
 * subscribers, 128-byte payload, flow-controlled) against two xbar servers that differ only in
 * `stats.enabled`: on (the default: per-connection message/byte counters, per-realm and per-topic
 * event counters, call latency histogram, a sample every 5 s) and off. Runs alternate on, off, on,
 * off… in one invocation; the result is the median of the paired ratios of server CPU per
 * delivered event (target: on costs at most 5% more) and of throughput.
 */
import { SUBSCRIBERS, run, xbarRig, type Rig } from './fanout.js';
import { debug, medians, pairedRatio, rounds, type ScenarioResult, ServerChild } from './harness.js';

const RUN_MS = 1500;
const MIN_ROUNDS = 3;
const MAX_ROUNDS = 5;

export async function statsOverhead(): Promise<ScenarioResult> {
  const on = await ServerChild.start('xbar', 'stats-on');
  const off = await ServerChild.start('xbar', 'stats-off', ['--stats-off']);
  const rigs: Rig[] = [];
  try {
    const a = await xbarRig(on);
    rigs.push(a);
    const b = await xbarRig(off);
    rigs.push(b);
    for (const [label, s] of [['on', on], ['off', off]] as const) {
      const st = await s.stats();
      if (st['subscriptions'] !== 1 || st['sessions'] !== SUBSCRIBERS + 1) throw new Error(`stats ${label} setup: ${JSON.stringify(st)}`);
    }
    debug('stats: clients connected');
    await run(a, 500);
    await run(b, 500);
    const { series: [ar, br], quality } = await rounds([() => run(a, RUN_MS), () => run(b, RUN_MS)], MIN_ROUNDS, MAX_ROUNDS);
    if (!ar || !br) throw new Error('no runs');
    const cpu = pairedRatio(ar, br, 'server_cpu_us_per_event');
    return {
      scenario: 'stats',
      xbar: { ...medians(ar), runs: ar.map((r) => Math.round(r.events_per_s)) },
      baseline: { ...medians(br), runs: br.map((r) => Math.round(r.events_per_s)) },
      ratio: { server_cpu_us_per_event: cpu, events_per_s: pairedRatio(ar, br, 'events_per_s') },
      target: { server_cpu_us_per_event: '<= 1.05' },
      pass: cpu <= 1.05,
      info: { xbar: 'statistics on', baseline: 'statistics off (same xbar)', subscribers: SUBSCRIBERS, run_ms: RUN_MS, ...quality },
    };
  } finally {
    for (const r of rigs) r.close();
    await Promise.all([on.stop(), off.stop()]);
  }
}
