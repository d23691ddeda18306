/**
 * http: the HTTP bridge's publisher. Clients POST `{"topic", "args"}` (about 150 bytes) over 32
 * keep-alive connections, one request outstanding on each, to xbar's `publisher` path with
 * SUBSCRIBERS WebSocket subscribers on the topic, and to the baseline: a bare node:http server
 * that only reads and JSON-parses the same body and answers. Runs alternate xbar, bare, xbar, …;
 * the result is requests/s as a ratio of the baseline's, server CPU per request, and the events
 * delivered per request (every subscriber should get every publication: SUBSCRIBERS). A third
 * server, xbar with no subscriber, shows the bridge's own cost apart from delivering the events.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { type CpuSource, Meter, medians, pairedRatio, placement, rounds, type ScenarioResult, until } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONNECTIONS = 32;
const SUBSCRIBERS = 10;
const RUN_MS = 2000;
const TOPIC = 'com.bench.http';
const BODY = JSON.stringify({ topic: TOPIC, args: ['x'.repeat(100), 42], kwargs: { n: 1 } });

class HttpServerChild implements CpuSource {
  private replies: ((m: { cpu: NodeJS.CpuUsage }) => void)[] = [];
  private constructor(readonly child: ChildProcess, readonly url: string) {
    child.on('message', (m: { cpu?: NodeJS.CpuUsage }) => { if (m.cpu) this.replies.shift()?.(m as { cpu: NodeJS.CpuUsage }); });
  }

  static async start(kind: 'xbar' | 'bare'): Promise<HttpServerChild> {
    const argv = [path.join(here, 'http-server.js'), kind];
    const child = placement.pinned
      ? spawn('taskset', ['-c', String(placement.serverCpu), process.execPath, ...argv], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: { url: string }) => resolve(m.url));
      child.once('exit', (code) => reject(new Error(`${kind} http server exited (${code})`)));
    });
    return new HttpServerChild(child, url);
  }

  cpuMicros(): Promise<number> {
    return new Promise((resolve) => {
      this.replies.push((m) => resolve(m.cpu.user + m.cpu.system));
      this.child.send({ cmd: 'cpu' });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => { clearTimeout(timer); resolve(); });
      this.child.send({ cmd: 'stop' });
    });
  }
}

/** A WAMP subscriber over raw ws (JSON) that counts EVENTs. */
async function subscriber(url: string): Promise<{ events: () => number; close(): void }> {
  const ws = new WebSocket(url.replace('http:', 'ws:') + '/ws', ['wamp.2.json']);
  let events = 0;
  let subscribed!: () => void;
  const ready = new Promise<void>((r) => (subscribed = r));
  ws.on('message', (data: Buffer) => {
    if (data[1] === 0x33 && data[2] === 0x36) events++; // "[36,"
    else if (data.toString().startsWith('[2,')) ws.send(JSON.stringify([32, 1, {}, TOPIC]));
    else if (data.toString().startsWith('[33,')) subscribed();
  });
  await new Promise<void>((r) => ws.once('open', () => r()));
  ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
  await ready;
  return { events: () => events, close: () => ws.close() };
}

interface Run extends Record<string, number> {
  requests_per_s: number;
  server_cpu_us_per_request: number;
  events_per_request: number;
  other_load: number;
}

async function load(server: HttpServerChild, ms: number, events: () => number): Promise<Run> {
  const target = new URL(server.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const body = Buffer.from(BODY);
  let done = 0;
  let stop = false;
  const one = (): Promise<void> => new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, path: '/publish', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) done++; resolve(); });
    });
    req.on('error', reject);
    req.end(body);
  });
  const worker = async () => { while (!stop) await one(); };
  const events0 = events();
  const meter = new Meter(server);
  await meter.start();
  const workers = Array.from({ length: CONNECTIONS }, worker);
  await new Promise((r) => setTimeout(r, ms));
  stop = true;
  await Promise.all(workers);
  const end = performance.now();
  const m = await meter.stop(end);
  const expected = events0 + done * SUBSCRIBERS;
  // Events still on their way when the last answer came: wait for them (bounded) before counting.
  await until(() => events() >= expected || events() === 0, 'events drained', 5000).catch(() => undefined);
  agent.destroy();
  return {
    requests_per_s: done / m.seconds,
    server_cpu_us_per_request: m.serverCpuMicros / done,
    events_per_request: (events() - events0) / done,
    other_load: m.otherLoad,
  };
}

export async function httpScenario(): Promise<ScenarioResult> {
  const xbar = await HttpServerChild.start('xbar');
  const alone = await HttpServerChild.start('xbar');
  const bare = await HttpServerChild.start('bare');
  const subs: { events: () => number; close(): void }[] = [];
  try {
    for (let i = 0; i < SUBSCRIBERS; i++) subs.push(await subscriber(xbar.url));
    const delivered = () => subs.reduce((a, s) => a + s.events(), 0);
    await load(xbar, 300, delivered);
    await load(bare, 300, () => 0);
    await load(alone, 300, () => 0);
    const { series: [xr, br, ar], quality } = await rounds([
      () => load(xbar, RUN_MS, delivered), () => load(bare, RUN_MS, () => 0), () => load(alone, RUN_MS, () => 0),
    ], 3, 5);
    if (!xr || !br || !ar) throw new Error('no runs');
    const rps = pairedRatio(xr, br, 'requests_per_s');
    const perRequest = medians(xr).events_per_request;
    return {
      scenario: 'http',
      xbar: { ...medians(xr), runs: xr.map((r) => Math.round(r.requests_per_s)) },
      baseline: { ...medians(br), runs: br.map((r) => Math.round(r.requests_per_s)) },
      ratio: {
        requests_per_s: rps, events_per_request: perRequest / SUBSCRIBERS, server_cpu_us_per_request: pairedRatio(xr, br, 'server_cpu_us_per_request'),
        requests_per_s_no_subscribers: pairedRatio(ar, br, 'requests_per_s'),
      },
      rows: {
        [`xbar, ${SUBSCRIBERS} subscribers`]: medians(xr), 'xbar, no subscribers': medians(ar), baseline: medians(br),
        'ratio xbar/baseline': { requests_per_s: rps, server_cpu_us_per_request: pairedRatio(xr, br, 'server_cpu_us_per_request'), events_per_request: perRequest },
        'ratio no subscribers/baseline': { requests_per_s: pairedRatio(ar, br, 'requests_per_s'), server_cpu_us_per_request: pairedRatio(ar, br, 'server_cpu_us_per_request') },
      },
      target: { requests_per_s: '>= 0.5', events_per_request: '>= 1' },
      pass: rps >= 0.5 && perRequest >= SUBSCRIBERS,
      info: {
        xbar: `publisher path, ${SUBSCRIBERS} WebSocket subscribers on the topic`,
        baseline: 'node:http reading and JSON-parsing the same body, answering {"id": n}',
        connections: CONNECTIONS, body_bytes: BODY.length, run_ms: RUN_MS, ...quality,
      },
    };
  } finally {
    for (const s of subs) s.close();
    await Promise.all([xbar.stop(), alone.stop(), bare.stop()]);
  }
}
