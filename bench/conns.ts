/**
 * conns: sessions joined per second and memory per idle session (issue 18 point 4).
 *
 * N clients (XBAR_BENCH_CONNS, default 9,000: this machine's open-file limit is 20,000 per process)
 * each open a WebSocket, send HELLO and wait for WELCOME, `PARALLEL` handshakes at a time. Join
 * rate: N over the wall time from the first connect to the last WELCOME; server CPU per session.
 * Memory: the server's RSS (and V8 heap + external) after full GCs with the N sessions idle, less
 * the same before they came, over N; each run has a server process of its own, so "before" is a
 * fresh process.
 * Baseline: the bare `ws` server's `?hello=1` mode — it answers the first message with a
 * WELCOME-shaped frame and keeps the socket in a map, the least a router must do per session.
 */
import { connectMany, medians, Meter, pairedRatio, rounds, type ScenarioResult, ServerChild, sleep, until } from './harness.js';
import { WAMP_JSON } from './wamp-peer.js';
import { BenchSocket } from './ws-client.js';

const N = Number(process.env.XBAR_BENCH_CONNS ?? 9000);
const PARALLEL = 64;
const HELLO = Buffer.from('[1,"realm1",{"roles":{"publisher":{},"subscriber":{},"caller":{},"callee":{}}}]');

type ConnsRun = {
  joins_per_s: number; server_cpu_us_per_join: number; kib_per_session: number; heap_kib_per_session: number; welcome_bytes: number; other_load: number;
};

/** RSS and V8 heap + external memory after two full collections. */
async function memory(server: ServerChild): Promise<{ rss: number; heap: number }> {
  await server.collectGarbage();
  await sleep(100);
  await server.collectGarbage();
  return server.memory();
}

/** One session: the handshake, HELLO, and the first frame, which must be WELCOME. */
function join(url: string, welcomeBytes: number[]): Promise<BenchSocket> {
  return BenchSocket.connect(url, WAMP_JSON).then((s) => new Promise<BenchSocket>((resolve, reject) => {
    s.onFrame = (payload) => {
      s.onFrame = () => {};
      if (payload[0] !== 0x5b || payload[1] !== 0x32 || payload[2] !== 0x2c) return reject(new Error(`expected WELCOME, got ${payload.toString('utf8', 0, 80)}`));
      welcomeBytes.push(payload.length);
      resolve(s);
    };
    s.onClose = () => reject(new Error('closed before WELCOME'));
    s.send(HELLO);
  }));
}

async function run(server: ServerChild, url: string, count = N): Promise<ConnsRun> {
  const before = await memory(server);
  const meter = new Meter(server);
  await meter.start();
  const welcome: number[] = [];
  const sockets = await connectMany(count, PARALLEL, () => join(url, welcome));
  const m = await meter.stop();
  const after = await memory(server);
  for (const s of sockets) s.onClose = undefined;
  for (const s of sockets) s.destroy();
  await until(() => sockets.every((s) => s.closed), 'every client closed', 30_000);
  return {
    joins_per_s: count / m.seconds,
    server_cpu_us_per_join: m.serverCpuMicros / count,
    kib_per_session: (after.rss - before.rss) / count / 1024,
    heap_kib_per_session: (after.heap - before.heap) / count / 1024,
    welcome_bytes: welcome[0] ?? 0,
    other_load: m.otherLoad,
  };
}

/** A run on a server started for it, so its RSS before the sessions is a fresh process's. */
async function fresh(kind: 'xbar' | 'bare', count = N): Promise<ConnsRun> {
  const server = await ServerChild.start(kind, `conns-${kind}`);
  try {
    return await run(server, kind === 'xbar' ? server.url : `${server.url}?hello=1`, count);
  } finally {
    await server.stop();
  }
}

export async function conns(): Promise<ScenarioResult> {
  const { series: [xr, br], quality } = await rounds([() => fresh('xbar'), () => fresh('bare')], 3, 5);
  if (!xr || !br) throw new Error('no runs');
  const joins = pairedRatio(xr, br, 'joins_per_s');
  const memory = pairedRatio(xr, br, 'kib_per_session');
  return {
    scenario: 'conns',
    xbar: medians(xr),
    baseline: medians(br),
    ratio: {
      joins_per_s: joins, kib_per_session: memory,
      heap_kib_per_session: pairedRatio(xr, br, 'heap_kib_per_session'),
      server_cpu_us_per_join: pairedRatio(xr, br, 'server_cpu_us_per_join'),
    },
    target: { joins_per_s: '>= 0.95', kib_per_session: '<= 1.1' },
    pass: joins >= 0.95 && memory <= 1.1,
    info: { sessions: N, parallel_handshakes: PARALLEL, serializer: 'json', fresh_server_per_run: true, ...quality },
  };
}
