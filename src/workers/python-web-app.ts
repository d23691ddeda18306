/**
 * A Python web app of a `wsgi` or `resource` path, run as xbar runs Python components: one child
 * process of the router worker's Python (python/xbar_web_host.py) that imports the app from the
 * node directory and `options.pythonpath` and serves it over HTTP on a loopback port it reports.
 * Supervised: restarted with back-off whenever it ends (the path is dead without it), stopped with
 * the node. A start waits until the app listens, and fails naming the path, the module and the
 * package to install when Python, Twisted or a module the app imports is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { PythonWebHost } from '../config/types-web.js';
import { eachLine } from './output-lines.js';
import { processEnv } from './process-env.js';
import { systemPython } from '../config/system-python.js';
import { Supervisor, describeExit, type ExitInfo, type SupervisionPolicy } from './supervisor.js';

const HOST_SCRIPT = fileURLToPath(new URL('../../../src/workers/python/xbar_web_host.py', import.meta.url));

/** How long the first start may take to import the app (Django imports a lot), ms. */
const START_TIMEOUT_MS = 60_000;

/** Debian's package for a module an app commonly imports; others get pip's name. */
const PACKAGES: Readonly<Record<string, string>> = {
  twisted: 'python3-twisted',
  flask: 'python3-flask',
  django: 'python3-django',
  werkzeug: 'python3-werkzeug',
  jinja2: 'python3-jinja2',
  autobahn: 'python3-autobahn',
};

export type PythonWebJob =
  | { readonly kind: 'wsgi'; readonly module: string; readonly object: string; readonly maxthreads: number }
  | { readonly kind: 'resource'; readonly classname: string; readonly extra: unknown; readonly mount: readonly string[] };

type HostEvent =
  | { event: 'missing'; module: string; error: string }
  | { event: 'failed'; error: string }
  | { event: 'listening'; port: number };

export class PythonWebApp {
  /** The loopback port the app serves on now; undefined while it is not running. */
  port: number | undefined;
  /** Sent with every forwarded request: only xbar's requests reach the app. */
  readonly token = randomBytes(24).toString('base64url');
  readonly supervisor: Supervisor;
  private readonly python: string;
  private startup: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Settles when the running process's event pipe has closed (its last event was read). */
  private eventsRead: Promise<void> = Promise.resolve();

  /** `what` names the service in messages: 'wsgi path "/" (module "myapp")'. */
  constructor(
    readonly what: string,
    private readonly job: PythonWebJob,
    private readonly host: PythonWebHost,
    private readonly log: Logger,
    policy?: SupervisionPolicy,
  ) {
    this.python = host.python ?? systemPython();
    this.supervisor = new Supervisor(
      { spawn: () => this.spawn(), started: (child) => this.wire(child), exited: (exit) => this.exited(exit) },
      'restart-always',
      log,
      policy,
    );
  }

  /** Starts the process and resolves once the app listens; rejects with the reason it cannot. */
  async start(): Promise<void> {
    this.log.info({ python: this.python, pythonpath: this.host.pythonpath }, `starting ${this.what}`);
    const listening = new Promise<void>((resolve, reject) => (this.startup = { resolve, reject }));
    const timer = setTimeout(() => this.failStartup(`${this.what}: the app did not listen within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    try {
      await this.supervisor.start();
    } catch (e) {
      clearTimeout(timer);
      this.startup = undefined;
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') {
        throw new Error(`${this.what} needs Python 3, and ${this.python} does not exist: apt-get install python3 (or set the router worker's options.python)`);
      }
      throw new Error(`${this.what}: could not start ${this.python}: ${err.message}`);
    }
    try {
      await listening;
    } catch (e) {
      await this.supervisor.stop();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private spawn(): ChildProcess {
    return spawn(this.python, ['-u', HOST_SCRIPT], {
      cwd: this.host.cbdir,
      env: processEnv({ inherit: true, vars: {} }),
      // fd 3: the host's events.
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
  }

  private wire(child: ChildProcess): void {
    child.stdin!.on('error', () => {});
    child.stdin!.end(`${JSON.stringify({ ...this.job, cbdir: this.host.cbdir, pythonpath: this.host.pythonpath, token: this.token })}\n`);
    eachLine(child.stdout!, (line) => this.log.info({ pid: child.pid, stream: 'stdout' }, line));
    eachLine(child.stderr!, (line) => this.log.warn({ pid: child.pid, stream: 'stderr' }, line));
    const events = child.stdio[3] as Readable;
    this.eventsRead = new Promise((resolve) => events.once('close', resolve));
    eachLine(events, (line) => {
      let e: HostEvent;
      try {
        e = JSON.parse(line) as HostEvent;
      } catch {
        return;
      }
      this.event(e);
    });
  }

  private event(e: HostEvent): void {
    switch (e.event) {
      case 'listening':
        this.port = e.port;
        this.log.info({ port: e.port }, `${this.what} listening on 127.0.0.1:${e.port}`);
        this.startup?.resolve();
        this.startup = undefined;
        return;
      case 'missing': {
        const pkg = PACKAGES[e.module] ?? `the Python package that provides "${e.module}" (pip install ${e.module})`;
        this.failStartup(`${this.what} needs the Python module "${e.module}", which ${this.python} cannot import (${e.error}): install ${pkg.startsWith('python3-') ? `it with apt-get install ${pkg}` : pkg}`);
        return;
      }
      case 'failed':
        this.failStartup(`${this.what} could not start: ${e.error}`);
    }
  }

  /** During the first start: the start fails with `message`. Later: logged (the supervisor restarts). */
  private failStartup(message: string): void {
    if (this.startup) {
      this.startup.reject(new Error(message));
      this.startup = undefined;
    } else this.log.error(message);
  }

  private exited(exit: ExitInfo): void {
    this.port = undefined;
    // 'exit' can come before the pipe's last event (the reason it failed): read that first.
    if (this.startup) void this.eventsRead.then(() => this.failStartup(`${this.what}: the app's process ended before it listened (${describeExit(exit)})`));
  }

  async stop(): Promise<void> {
    this.startup = undefined;
    await this.supervisor.stop();
  }
}
