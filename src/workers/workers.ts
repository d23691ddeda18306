/**
 * The worker processes of a node, started in config order once the router listens (as Crossbar.io
 * starts its workers after the router worker) and stopped before the router shuts down. The router
 * knows nothing of them: a guest or component is a client like any other.
 */
import type { Logger } from 'pino';
import type { WorkerConfig, WorkersConfig } from '../config/types-workers.js';
import type { AttachConnection } from './component-entrance.js';
import { GuestWorker } from './guest.js';
import type { NodeController } from './node-controller.js';
import { PythonComponentsWorker } from './python-components.js';
import { ShutdownTriggers, type TriggeredShutdown } from './shutdown-triggers.js';
import { failed, type SupervisionPolicy } from './supervisor.js';

/** What a running worker offers the node. */
export interface Worker {
  readonly config: WorkerConfig;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface WorkersOptions {
  readonly log: Logger;
  /** Restart back-off and stop grace (tests shorten them). */
  readonly policy?: SupervisionPolicy;
  /** Attaches a router component's connection to the router (`Router.attach`). */
  readonly attach?: AttachConnection;
  /** What components of workers with `expose_controller` call through `config.controller`. */
  readonly controller?: NodeController;
  /** Stops the node when a worker's end meets a shutdown trigger (`controller.options.shutdown`). */
  readonly onTriggeredShutdown?: (why: TriggeredShutdown) => void;
}

export class Workers {
  readonly all: Worker[] = [];
  private started: Worker[] = [];
  private readonly triggers: ShutdownTriggers | undefined;

  constructor(config: WorkersConfig | undefined, private readonly options: WorkersOptions) {
    const stop = options.onTriggeredShutdown;
    if (config && stop) this.triggers = new ShutdownTriggers(config.shutdown, config.inProcess, stop, options.log);
    for (const w of config?.workers ?? []) this.all.push(this.create(w, config!.cbdir));
  }

  private create(w: WorkerConfig, cbdir: string): Worker {
    const o = this.options;
    if (w.type === 'router-components') return new PythonComponentsWorker(w, cbdir, o.log, o.policy, o.attach, o.controller);
    // Guests and containers are workers of their own (router components are part of the router worker).
    const worker = w.type === 'guest' ? new GuestWorker(w, o.log, o.policy) : new PythonComponentsWorker(w, cbdir, o.log, o.policy, o.attach, o.controller);
    worker.onEnded = (exit) => this.triggers?.ended(w.id, failed(exit));
    return worker;
  }

  /** The worker with this id. */
  get(id: string): Worker | undefined {
    return this.all.find((w) => w.config.id === id);
  }

  /** Starts every worker in order; if one cannot start, the others are stopped and the error is thrown. */
  async start(): Promise<void> {
    for (const w of this.all) {
      this.started.push(w);
      // Counted as running before it starts: a guest may exit before its start has returned.
      if (w.config.type !== 'router-components') this.triggers?.started(w.config.id);
      await w.start();
    }
  }

  /** Stops every worker (in parallel) and waits until their processes have exited. */
  async stop(): Promise<void> {
    const workers = this.started.reverse();
    this.started = [];
    await Promise.all(workers.map((w) => w.stop().catch((e: Error) => this.options.log.error({ worker: w.config.id, err: e.message }, 'worker did not stop cleanly'))));
  }
}
