/**
 * What a Python component of a worker with `options.expose_controller` reaches through
 * `self.config.controller`. In Crossbar.io (its edge personality, `crossbar edge start`; the
 * standalone `crossbar start` passes None) that is the worker's session on the node management
 * router, allowed to call the node controller's `crossbar.*` procedures
 * (crossbar/node/controller.py). xbar has no management router: the component host hands
 * `controller.call(...)` to the node, which answers `crossbar.shutdown` as Crossbar.io's
 * `NodeController.shutdown` does and refuses every other procedure, naming it.
 */
import type { Logger } from 'pino';

/** A `controller.call(procedure, *args, **kwargs)` from a component of worker `worker`. */
export interface ControllerCall {
  readonly worker: string;
  readonly procedure: string;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
}

/** The answer, as a WAMP RESULT (its one value) or ERROR. */
export type ControllerAnswer = { readonly result: unknown } | { readonly error: string; readonly message: string };

/** Crossbar.io's delay between answering crossbar.shutdown and stopping (`_SHUTDOWN_DELAY`), ms. */
export const SHUTDOWN_DELAY_MS = 200;

export class NodeController {
  private shutdownRequested = false;

  constructor(
    private readonly nodeId: () => string,
    /** Stops the node (the CLI: as on SIGTERM, then exits). */
    private readonly shutdown: () => void,
    private readonly log: Logger,
  ) {}

  call(c: ControllerCall): ControllerAnswer {
    if (c.procedure === 'crossbar.shutdown') return this.shutdownNode(c);
    return {
      error: 'wamp.error.no_such_procedure',
      message:
        `${c.procedure} is a Crossbar.io node management procedure xbar does not run: its controller ` +
        '(options.expose_controller) answers crossbar.shutdown only; the WAMP meta API and the stats/metrics paths describe the node',
    };
  }

  /** `NodeController.shutdown(restart=False, mode=None)`: the shutdown info, then the node stops. */
  private shutdownNode(c: ControllerCall): ControllerAnswer {
    const restart = c.kwargs.restart ?? c.args[0] ?? false;
    const mode = c.kwargs.mode ?? c.args[1] ?? null;
    if (restart !== false) {
      return { error: 'crossbar.error.invalid_argument', message: 'crossbar.shutdown: xbar does not restart a node (restart=True); stop it and start it again, e.g. under a process supervisor' };
    }
    // A second request while stopping: Crossbar.io returns nothing.
    if (this.shutdownRequested) return { result: null };
    this.shutdownRequested = true;
    this.log.info({ worker: c.worker, mode }, 'node shutdown requested by a component (crossbar.shutdown)');
    setTimeout(this.shutdown, SHUTDOWN_DELAY_MS);
    return { result: { node_id: this.nodeId(), restart: false, mode, who: null, when: new Date().toISOString(), was_clean: null } };
  }
}
