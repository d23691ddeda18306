/**
 * Python application components: a container worker, or a router worker's `components`, run as
 * Crossbar.io runs its native workers — one child process of the system's Python 3 with
 * Autobahn|Python (Twisted), here xbar's host script (python/xbar_component_host.py), which
 * imports each `classname` and connects it to the router:
 *
 * - container components over the transport their config names (any listener of this node, or
 *   another router), with their container's `restart` and `shutdown` options;
 * - router components over a private Unix socket each (component-entrance.ts), joined to their
 *   `realm` with their `role`, as Crossbar.io attaches them inside the router.
 *
 * The process runs in the node directory with `options.pythonpath` first on sys.path and
 * `options.env` as its environment; its output is logged with the worker's id; a container's
 * process ends for good like a guest's (the node's shutdown triggers decide), router components'
 * is restarted with back-off when it fails; both are stopped before the router. A start
 * waits until every component has joined, and fails naming the component when one cannot (or
 * when Python or Autobahn|Python is missing, naming the package to install).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ContainerWorkerConfig, RouterComponentsWorkerConfig } from '../config/types-workers.js';
import { systemPython } from '../config/system-python.js';
import { ComponentEntrance, type AttachConnection } from './component-entrance.js';
import type { NodeController } from './node-controller.js';
import { eachLine } from './output-lines.js';
import { processEnv } from './process-env.js';
import { Supervisor, describeExit, type ExitInfo, type SupervisionPolicy } from './supervisor.js';

/** The host script, shipped in the package beside dist/ (package.json `files`). */
export const HOST_SCRIPT = fileURLToPath(new URL('../../../src/workers/python/xbar_component_host.py', import.meta.url));

type HostEvent =
  | { event: 'missing'; module: string; error: string }
  | { event: 'joined'; id: string; session: number; authid: string; authrole: string }
  | { event: 'ready'; id: string }
  | { event: 'failed'; id: string; error: string }
  | { event: 'stopped'; id: string; clean: boolean }
  | { event: 'controller'; call: number; procedure: string; args: unknown[]; kwargs: Record<string, unknown> };

/** What a component that joined reported (for tests and the operator). */
export interface ComponentState {
  readonly id: string;
  session?: number;
  authid?: string;
  authrole?: string;
  joined: boolean;
}

const PACKAGES: Readonly<Record<string, string>> = {
  autobahn: 'python3-autobahn',
  twisted: 'python3-twisted python3-autobahn',
  txaio: 'python3-autobahn',
};

export class PythonComponentsWorker {
  readonly supervisor: Supervisor;
  readonly components = new Map<string, ComponentState>();
  private readonly log: Logger;
  private readonly python: string;
  private entrance: ComponentEntrance | undefined;
  private startup: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** The running process's stdin while components may call `config.controller` (answers go there). */
  private answers: NodeJS.WritableStream | undefined;
  /** Called when the process exited for good (not on stop). */
  onEnded: ((exit: ExitInfo) => void) | undefined;

  constructor(
    readonly config: ContainerWorkerConfig | RouterComponentsWorkerConfig,
    private readonly cbdir: string,
    log: Logger,
    policy?: SupervisionPolicy,
    private readonly attach?: AttachConnection,
    private readonly controller?: NodeController,
  ) {
    this.log = log.child({ worker: config.id, type: config.type === 'container' ? 'container' : 'router-components' });
    this.python = config.python.python ?? systemPython();
    for (const c of config.components) this.components.set(c.id, { id: c.id, joined: false });
    this.supervisor = new Supervisor(
      { spawn: () => this.spawn(), started: (child) => this.wire(child), exited: (exit) => this.exited(exit), ended: (exit) => this.onEnded?.(exit) },
      // A container is a worker of its own, which Crossbar.io never starts again; router components
      // live in the router worker, which outlives them, so their process is restarted when it fails.
      config.type === 'container' ? 'restart-never' : 'restart-on-failed',
      this.log,
      policy,
    );
  }

  /** "component001 (hello.AppSession)" for messages. */
  private describe(id: string): string {
    const c = this.config.components.find((x) => x.id === id);
    return c ? `component "${c.id}" (${c.classname})` : `component "${id}"`;
  }

  private get what(): string {
    return `worker "${this.config.id}"`;
  }

  async start(): Promise<void> {
    if (this.config.components.length === 0) return;
    if (this.config.type === 'router-components') {
      if (this.attach === undefined) throw new Error(`${this.what}: router components need the router`);
      this.entrance = await ComponentEntrance.open(this.config.id, this.config.components, this.attach);
    }
    this.log.info({ python: this.python, components: this.config.components.map((c) => `${c.id} ${c.classname}`) }, 'starting Python components');
    const joined = new Promise<void>((resolve, reject) => (this.startup = { resolve, reject }));
    try {
      await this.supervisor.start();
    } catch (e) {
      this.startup = undefined;
      await this.close();
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') {
        throw new Error(
          `${this.what}: ${this.describe(this.config.components[0]!.id)} needs Python 3, and ${this.python} does not exist: ` +
            'apt-get install python3 python3-autobahn (or set options.python to a Python 3 with Autobahn|Python)',
        );
      }
      throw new Error(`${this.what}: could not start ${this.python}: ${err.message}`);
    }
    try {
      await joined;
    } catch (e) {
      await this.supervisor.stop();
      await this.close();
      throw e;
    }
  }

  private job(): unknown {
    const c = this.config;
    const base = {
      cbdir: this.cbdir, pythonpath: c.python.pythonpath, reactor: c.python.reactor ?? null,
      expose_controller: this.exposesController, expose_shared: c.python.exposeShared,
    };
    if (c.type === 'container') {
      return { ...base, kind: 'container', restart: c.restart, shutdown: c.shutdown, components: c.components };
    }
    return {
      ...base,
      kind: 'router',
      components: c.components.map((x) => ({
        id: x.id,
        classname: x.classname,
        realm: x.realm,
        extra: x.extra,
        transport: { type: 'rawsocket', serializer: 'json', endpoint: { type: 'unix', path: this.entrance!.path(x.id) } },
      })),
    };
  }

  private spawn(): ChildProcess {
    return spawn(this.python, ['-u', HOST_SCRIPT], {
      cwd: this.cbdir,
      env: processEnv(this.config.python.env),
      // fd 3: the host's events.
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
  }

  private get exposesController(): boolean {
    return this.config.python.exposeController && this.controller !== undefined;
  }

  private wire(child: ChildProcess): void {
    for (const state of this.components.values()) state.joined = false;
    child.stdin!.on('error', () => {});
    // The job is the first line; with a controller, its answers follow on the same pipe.
    const job = `${JSON.stringify(this.job())}\n`;
    if (this.exposesController) {
      child.stdin!.write(job);
      this.answers = child.stdin!;
    } else {
      child.stdin!.end(job);
    }
    eachLine(child.stdout!, (line) => this.log.info({ pid: child.pid, stream: 'stdout' }, line));
    eachLine(child.stderr!, (line) => this.log.warn({ pid: child.pid, stream: 'stderr' }, line));
    eachLine(child.stdio[3] as Readable, (line) => {
      let event: HostEvent;
      try {
        event = JSON.parse(line) as HostEvent;
      } catch {
        return;
      }
      this.event(event);
    });
  }

  private event(e: HostEvent): void {
    switch (e.event) {
      case 'missing': {
        const pkg = PACKAGES[e.module] ?? 'python3-autobahn';
        this.failStartup(
          `${this.what}: ${this.describe(this.config.components[0]!.id)} needs Autobahn|Python (Twisted), which ${this.python} cannot import ` +
            `(${e.error}): apt-get install ${pkg}`,
          true,
        );
        return;
      }
      case 'joined': {
        const state = this.components.get(e.id);
        if (!state) return;
        Object.assign(state, { joined: true, session: e.session, authid: e.authid, authrole: e.authrole });
        this.log.info({ component: e.id, session: e.session, authrole: e.authrole }, 'component joined');
        if ([...this.components.values()].every((s) => s.joined)) {
          this.startup?.resolve();
          this.startup = undefined;
        }
        return;
      }
      case 'ready':
        return;
      case 'failed':
        this.log.error({ component: e.id }, `component failed: ${e.error}`);
        this.failStartup(`${this.what}: ${this.describe(e.id)} failed to start: ${e.error}`, false);
        return;
      case 'stopped': {
        const state = this.components.get(e.id);
        if (state) state.joined = false;
        this.log[e.clean ? 'info' : 'error']({ component: e.id, clean: e.clean }, 'component stopped');
        return;
      }
      case 'controller': {
        if (this.controller === undefined || typeof e.procedure !== 'string') return;
        const args = Array.isArray(e.args) ? e.args : [];
        const kwargs = typeof e.kwargs === 'object' && e.kwargs !== null ? e.kwargs : {};
        const answer = this.controller.call({ worker: this.config.id, procedure: e.procedure, args, kwargs });
        this.answers?.write(`${JSON.stringify({ call: e.call, ...answer })}\n`);
      }
    }
  }

  /** During the first start: the start fails with `message`. Later: logged (the supervisor restarts a failed process). */
  private failStartup(message: string, always: boolean): void {
    if (this.startup) {
      this.startup.reject(new Error(message));
      this.startup = undefined;
    } else if (always) {
      this.log.error(message);
    }
  }

  private exited(exit: ExitInfo): void {
    this.answers = undefined;
    for (const state of this.components.values()) state.joined = false;
    this.failStartup(`${this.what}: the Python components' process ended before every component joined (${describeExit(exit)})`, false);
  }

  async stop(): Promise<void> {
    this.startup = undefined;
    await this.supervisor.stop();
    await this.close();
  }

  private async close(): Promise<void> {
    this.entrance?.close();
    this.entrance = undefined;
  }
}
