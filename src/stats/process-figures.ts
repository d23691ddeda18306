/**
 * The node process's own figures for the statistics report and the console: CPU, memory, heap,
 * event-loop lag and GC, per sampling interval. Node measures them (`process.cpuUsage`,
 * `process.memoryUsage`, `perf_hooks.monitorEventLoopDelay`, GC performance entries); this
 * turns them into per-interval figures. /metrics has the same from prom-client's default metrics,
 * which reset their event-loop histogram on each scrape, so the two keep separate monitors.
 */
import { type IntervalHistogram, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface ProcessFigures {
  readonly pid: number;
  readonly uptime_s: number;
  /** CPU time (user + system) over the last interval, % of one core; null before the first interval. */
  readonly cpu_percent: number | null;
  readonly rss_bytes: number;
  readonly heap_used_bytes: number;
  readonly heap_total_bytes: number;
  /** Event-loop delay over the last interval (ms); null before the first interval. */
  readonly event_loop_lag_mean_ms: number | null;
  readonly event_loop_lag_p99_ms: number | null;
  readonly event_loop_lag_max_ms: number | null;
  /** Time spent in garbage collection per second over the last interval (ms/s), and collections. */
  readonly gc_ms_per_s: number | null;
  readonly gc_count: number;
}

const NS_PER_MS = 1e6;

export class ProcessSampler {
  private loop: IntervalHistogram | undefined;
  private gc: PerformanceObserver | undefined;
  private gcMs = 0;
  private gcCount = 0;
  private last: { at: number; cpu: NodeJS.CpuUsage; gcMs: number } | undefined;
  private interval: Pick<ProcessFigures, 'cpu_percent' | 'event_loop_lag_mean_ms' | 'event_loop_lag_p99_ms' | 'event_loop_lag_max_ms' | 'gc_ms_per_s'> = {
    cpu_percent: null, event_loop_lag_mean_ms: null, event_loop_lag_p99_ms: null, event_loop_lag_max_ms: null, gc_ms_per_s: null,
  };

  start(): void {
    if (this.loop) return;
    this.loop = monitorEventLoopDelay({ resolution: 10 });
    this.loop.enable();
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gcMs += e.duration;
        this.gcCount++;
      }
    });
    this.gc.observe({ entryTypes: ['gc'] });
    this.last = { at: performance.now(), cpu: process.cpuUsage(), gcMs: 0 };
  }

  stop(): void {
    this.loop?.disable();
    this.gc?.disconnect();
    this.loop = undefined;
    this.gc = undefined;
  }

  /** Closes an interval: CPU, lag and GC since the previous call. */
  sample(): ProcessFigures {
    const at = performance.now();
    const cpu = process.cpuUsage();
    if (this.last && this.loop) {
      const ms = at - this.last.at;
      const used = (cpu.user - this.last.cpu.user + cpu.system - this.last.cpu.system) / 1000;
      const lag = this.loop;
      const counted = lag.count > 0;
      this.interval = {
        cpu_percent: ms > 0 ? (100 * used) / ms : null,
        event_loop_lag_mean_ms: counted ? lag.mean / NS_PER_MS : null,
        event_loop_lag_p99_ms: counted ? lag.percentile(99) / NS_PER_MS : null,
        event_loop_lag_max_ms: counted ? lag.max / NS_PER_MS : null,
        gc_ms_per_s: ms > 0 ? ((this.gcMs - this.last.gcMs) * 1000) / ms : null,
      };
      lag.reset();
      this.last = { at, cpu, gcMs: this.gcMs };
    }
    return this.figures();
  }

  /** Memory as of now; CPU, lag and GC as of the last interval. */
  figures(): ProcessFigures {
    const m = process.memoryUsage();
    return {
      pid: process.pid, uptime_s: process.uptime(), ...this.interval,
      rss_bytes: m.rss, heap_used_bytes: m.heapUsed, heap_total_bytes: m.heapTotal, gc_count: this.gcCount,
    };
  }
}
