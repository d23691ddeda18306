/** A real HAProxy (TCP mode) in front of xbar nodes, on a free loopback port; stopped by its pid. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { eventually } from './eventually.js';

export interface HaproxyBackend {
  readonly name: string;
  readonly port: number;
}

export interface Haproxy {
  readonly port: number;
  readonly process: ChildProcess;
  /** What HAProxy wrote to stderr (its log, with `log stderr …` in the config). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `least connections` balancing with health checks every 200 ms; a server that fails two checks
 * is marked down and its sessions are shut, so clients reconnect to a live node — the layout of
 * Crossbar.io's HA guide. `healthPath` switches the check from TCP connect to HTTP GET.
 */
export async function startHaproxy(backends: readonly HaproxyBackend[], healthPath?: string): Promise<Haproxy> {
  const port = await freePort();
  return runHaproxy(port, haproxyConfig(port, backends, healthPath));
}

/**
 * A HAProxy configuration file as written (e.g. examples/cluster/haproxy.cfg) on free ports: its
 * `bind` moved to a free port and its `server` lines replaced by `backends`, each server line
 * keeping the options of the file's `default-server` line. `edit` may change the text further.
 */
export async function startHaproxyFromFile(file: string, backends: readonly HaproxyBackend[], edit: (cfg: string) => string = (c) => c): Promise<Haproxy> {
  const port = await freePort();
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => !/^\s*server\s/.test(l));
  const text = lines
    .map((l) => l.replace(/^(\s*bind\s+)\S+/, `$1127.0.0.1:${port}`))
    .join('\n')
    .trimEnd();
  return runHaproxy(port, edit(`${text}\n${backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port}`).join('\n')}\n`));
}

async function runHaproxy(port: number, config: string): Promise<Haproxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xbar-haproxy-'));
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  process.once('exit', () => child.kill('SIGKILL'));
  await waitListening(port, () => stderr);
  return {
    port,
    process: child,
    output: () => stderr,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export function haproxyConfig(port: number, backends: readonly HaproxyBackend[], healthPath?: string): string {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout tunnel 1h',
    'frontend wamp',
    `  bind 127.0.0.1:${port}`,
    '  default_backend xbar',
    'backend xbar',
    '  balance leastconn',
    ...(healthPath ? ['  option httpchk', `  http-check send meth GET uri ${healthPath}`, '  http-check expect status 200'] : []),
    '  default-server check inter 200 fall 2 rise 1 on-marked-down shutdown-sessions',
    ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port}`),
    '',
  ].join('\n');
}

async function waitListening(port: number, log: () => string): Promise<void> {
  const listening = () => new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
  await eventually(listening, `haproxy to listen on ${port}`, 10_000, 50).catch((e: Error) => {
    throw new Error(`${e.message}: ${log()}`);
  });
}
