/**
 * `npm run bench [-- [--prof[=DIR]] [--bare-write] [--cluster] [scenario…]]`: runs the named scenarios
 * (default: all but `cluster`), each against xbar and its baseline in the same run, printing one
 * JSON line and a table per scenario and a summary of the targets at the end. `--cluster` (or the
 * scenario name `cluster`) runs the cluster bench: real nats-server and xbar node processes.
 *
 * Not part of `npm test`: figures depend on the machine. Absolute numbers on a shared 2-core
 * machine are noisy; the ratios are the result.
 */
import { fanout } from './fanout.js';
import { options, placement, printTable, type ScenarioResult } from './harness.js';
import { matchScenario } from './match-e2e.js';
import { pingpong } from './pingpong.js';
import { rpc } from './rpc.js';
import { parseWorkerCounts, workers } from './workers.js';

const SCENARIOS: Record<string, () => Promise<ScenarioResult>> = { fanout, pingpong, match: matchScenario, rpc };
SCENARIOS.conns = (await import('./conns.js')).conns; // sessions joined per second, memory per idle session (bench/conns.ts)
SCENARIOS.sessions = (await import('./sessions.js')).sessions; // 100,000 idle sessions on one node of workers (bench/sessions.ts)
SCENARIOS.bulk = (await import('./bulk.js')).bulk; // 1 MiB binary payloads per serializer (bench/bulk.ts)
SCENARIOS.relay = (await import('./relay.js')).relay; // practable relay shapes (bench/relay.ts)
SCENARIOS.stats = (await import('./stats-overhead.js')).statsOverhead; // statistics on vs off (bench/stats-overhead.ts)
SCENARIOS.cluster = (await import('./cluster.js')).cluster; // NATS cluster (bench/cluster.ts); needs nats-server
SCENARIOS['cluster-scale'] = (await import('./cluster-scale.js')).clusterScale; // what grows with nodes; needs nats-server
SCENARIOS.mqtt = (await import('./mqtt.js')).mqttScenario; // MQTT gateway vs Mosquitto (bench/mqtt.ts); needs /usr/sbin/mosquitto
SCENARIOS.http = (await import('./http.js')).httpScenario; // HTTP bridge publisher vs bare node:http (bench/http.ts)
SCENARIOS.workers = workers; // xbar start --workers N: cross-worker vs same-worker (bench/workers.ts); also --workers N
/** What `npm run bench` runs when no scenario is named. */
const DEFAULT = Object.keys(SCENARIOS).filter((s) => s !== 'cluster' && s !== 'cluster-scale' && s !== 'mqtt' && s !== 'workers');

function parseArgs(argv: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--workers' || a.startsWith('--workers=')) {
      // --workers N (or N,M,…): the multi-core node (bench/workers.ts) with 1 and N workers.
      try {
        parseWorkerCounts(a === '--workers' ? argv[++i] ?? '' : a.slice('--workers='.length));
      } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
      }
      names.push('workers');
    } else if (a === '--prof') options.profileDir = 'bench-profiles';
    else if (a.startsWith('--prof=')) options.profileDir = a.slice('--prof='.length);
    else if (a === '--bare-cork') options.bareCork = true;
    else if (a === '--bare-write') options.bareCork = false;
    else if (a === '--cluster') names.push('cluster');
    else if (a in SCENARIOS) names.push(a);
    else {
      console.error(`unknown scenario or option "${a}"; scenarios: ${Object.keys(SCENARIOS).join(', ')}; options: --prof[=DIR], --bare-write, --bare-cork, --cluster, --workers N[,M…]`);
      process.exit(2);
    }
  }
  return names.length > 0 ? names : DEFAULT;
}

/** The human table of a scenario: xbar, baseline and ratio rows over the measured keys. */
function table(r: ScenarioResult): void {
  if (r.tables) {
    Object.entries(r.tables).forEach(([title, rows], i) => {
      if (i > 0) console.log('');
      printTable(title, rows);
    });
    return;
  }
  if (r.rows) return printTable(r.scenario, r.rows);
  const numeric = (o: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number'));
  printTable(r.scenario, {
    xbar: numeric(r.xbar),
    baseline: numeric(r.baseline),
    'ratio xbar/baseline': r.ratio,
  });
}

async function main(): Promise<void> {
  const names = parseArgs(process.argv.slice(2));
  const bare = options.bareCork ? 'bare ws baseline coalescing each tick\'s writes per socket, as xbar does' : 'bare ws baseline, one write per message (--bare-write)';
  console.log(`# xbar bench: ${placement.text}; node ${process.version}; ${bare}; scenarios: ${names.join(', ')}`);
  if (options.profileDir) console.log(`# CPU profiles of the server children go to ${options.profileDir}/`);
  const started = Date.now();
  const results: ScenarioResult[] = [];
  let failed = false;
  for (const name of names) {
    const t0 = Date.now();
    try {
      const r = await SCENARIOS[name]!();
      results.push(r);
      const { rows: _rows, tables: _tables, ...line } = r;
      console.log(JSON.stringify(line));
      if (typeof r.info?.['machine'] === 'string') console.log(`# ${r.info['machine']}`);
      table(r);
      console.log(roundsNote(r));
      console.log(`(${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    } catch (e) {
      failed = true;
      console.error(`bench ${name} failed: ${(e as Error).stack ?? String(e)}\n`);
    }
  }
  const summary: Record<string, Record<string, unknown>> = {};
  for (const r of results) {
    for (const [k, want] of Object.entries(r.target)) {
      summary[`${r.scenario}.${k}`] = { ratio: r.ratio[k], target: want, pass: r.ratio[k] !== undefined && passes(r.ratio[k]!, want) ? 'yes' : 'NO' };
    }
  }
  console.log(`summary (${((Date.now() - started) / 1000).toFixed(0)} s; ${placement.text})`);
  printTable('target', summary);
  process.exit(failed ? 1 : 0);
}

/** Which rounds the medians and ratios came from (see harness.rounds). */
function roundsNote(r: ScenarioResult): string {
  const describe = (q: Record<string, unknown>): string => `${q['quiet_rounds']} of ${q['rounds']} rounds quiet, used ${q['used']}`;
  const info = r.info ?? {};
  if (typeof info['used'] === 'string') return `(${describe(info)})`;
  const nested = info['rounds'];
  if (nested && typeof nested === 'object') {
    return `(${Object.entries(nested as Record<string, Record<string, unknown>>).map(([k, q]) => `${k}: ${describe(q)}`).join('; ')})`;
  }
  return '';
}

/** Targets read ">= 0.7" or "<= 1.3". */
function passes(value: number, want: string): boolean {
  const m = /^(>=|<=)\s*([\d.]+)/.exec(want);
  if (!m) return false;
  return m[1] === '>=' ? value >= Number(m[2]) : value <= Number(m[2]);
}

await main();
