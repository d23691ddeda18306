/**
 * When a worker's end stops the node, as Crossbar.io's `NodeController` decides it after each
 * worker exit (`check_for_shutdown` in crossbar/node/controller.py), by the triggers of
 * `controller.options.shutdown`:
 *
 * - `shutdown_on_worker_exit`: any worker that ended (Crossbar.io's default);
 * - `shutdown_on_worker_exit_with_error`: a worker that ended with a failure;
 * - `shutdown_on_last_worker_exit`: the last worker that was running ended.
 *
 * A worker "ends" when its process exited and is not started again: xbar's `restart` modes and a
 * watched guest's restart are not ends. `shutdown_on_shutdown_requested` changes nothing here:
 * `crossbar.shutdown` stops the node whatever the triggers (as in Crossbar.io).
 */
import type { Logger } from 'pino';
import type { ShutdownTrigger } from '../config/types-workers.js';

/** Why the node stops, and the exit code it stops with (1 when the worker that ended failed). */
export interface TriggeredShutdown {
  readonly trigger: ShutdownTrigger;
  readonly worker: string;
  readonly exitCode: 0 | 1;
}

export class ShutdownTriggers {
  private readonly running = new Set<string>();
  private fired = false;

  constructor(
    private readonly triggers: readonly ShutdownTrigger[],
    /** Workers that run inside the node and end only with it. */
    private readonly inProcess: number,
    private readonly shutdown: (why: TriggeredShutdown) => void,
    private readonly log: Logger,
  ) {}

  started(worker: string): void {
    this.running.add(worker);
  }

  /** A worker's process exited for good; `failed` when it exited with an error or a signal. */
  ended(worker: string, failed: boolean): void {
    if (!this.running.delete(worker) || this.fired) return;
    const trigger = this.which(failed);
    const exitCode = failed ? 1 : 0;
    if (trigger === undefined) {
      this.log.info({ worker, triggers: this.triggers }, 'worker ended; no shutdown trigger applies: the node keeps running');
      return;
    }
    this.fired = true;
    this.log.info({ worker, trigger }, 'worker ended: stopping the node (controller.options.shutdown)');
    this.shutdown({ trigger, worker, exitCode });
  }

  private which(failed: boolean): ShutdownTrigger | undefined {
    if (this.triggers.includes('shutdown_on_worker_exit')) return 'shutdown_on_worker_exit';
    if (failed && this.triggers.includes('shutdown_on_worker_exit_with_error')) return 'shutdown_on_worker_exit_with_error';
    if (this.running.size + this.inProcess === 0 && this.triggers.includes('shutdown_on_last_worker_exit')) return 'shutdown_on_last_worker_exit';
    return undefined;
  }
}
